"""``mfteach check-model CHECKPOINT RATINGS``: loads tensors only, prints the report, exit code
0 healthy / 1 a warning / 2 files it cannot use (with a message, never a traceback)."""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import mfteach as mf
from mfteach import cli
from _plain_loop import PlainMF, fit


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A healthy model (biases + a global bias parameter) and a collapsed one, with their CSV."""
    d = tmp_path_factory.mktemp("ckpt")
    split = mf.random_split(mf.synthetic(150, 250, 6000, seed=2), seed=2)
    t = split.train
    good = PlainMF(t.n_users, t.n_items, biases=True, mean=float(t.ratings.mean()))
    fit(good, torch.optim.Adam(good.parameters(), lr=0.01), t, split.val, epochs=4)
    sd = good.state_dict()
    sd["global_bias"] = torch.tensor(float(t.ratings.mean()))  # the mean, as a parameter
    torch.save(sd, d / "good.pt")
    torch.save({"users.weight": torch.zeros(t.n_users, 8), "items.weight": torch.zeros(t.n_items, 8)},
               d / "zero.pt")
    t.to_frame().rename(columns={"user": "userId", "item": "movieId"}).to_csv(d / "r.csv", index=False)
    return d


def test_a_healthy_state_dict_exits_0(trained, capsys):
    rc = cli.main(["check-model", str(trained / "good.pt"), str(trained / "r.csv")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "no warnings: looks healthy" in out and "users.weight" in out and "items.weight" in out


def test_a_collapsed_model_exits_1(trained, capsys):
    rc = cli.main(["check-model", str(trained / "zero.pt"), str(trained / "r.csv")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "embeddings collapsed to zero" in out and "bias terms missing" in out


def test_a_pickled_object_is_refused_without_running_it(trained, tmp_path, capsys):
    class Boom:  # unpickling it would run code; weights_only refuses it first
        def __reduce__(self):
            return (print, ("ran!",))

    torch.save({"model": Boom()}, tmp_path / "obj.pt")
    with open(tmp_path / "raw.pkl", "wb") as f:
        pickle.dump({"a": {1, 2}}, f)
    torch.save({"lr": 0.1, "epochs": 3}, tmp_path / "no_tensors.pt")
    for name in ("obj.pt", "raw.pkl", "no_tensors.pt"):
        rc = cli.main(["check-model", str(tmp_path / name), str(trained / "r.csv")])
        captured = capsys.readouterr()
        assert rc == 2 and "refused" in captured.err and "state_dict" in captured.err
        assert "ran!" not in captured.out + captured.err


def test_missing_files_and_bad_names(trained, tmp_path, capsys):
    assert cli.main(["check-model", str(tmp_path / "none.pt"), str(trained / "r.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    rc = cli.main(["check-model", str(trained / "good.pt"), str(trained / "r.csv"),
                   "--user-table", "nope", "--item-table", "items"])
    assert rc == 2 and "'nope' is not a table" in capsys.readouterr().err


def test_ids_past_the_table_are_named(trained, tmp_path, capsys):
    import pandas as pd

    df = pd.read_csv(trained / "r.csv")
    df.loc[0, "movieId"] = 10_000
    df.to_csv(tmp_path / "far.csv", index=False)
    rc = cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "far.csv"),
                   "--user-table", "users", "--item-table", "items"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    # the file and the line (the header is line 1, the first rating line 2), named tables or not
    assert "far.csv, line 2: item id 10000, but the largest table has 250 rows" in err
    df.loc[0, "movieId"], df.loc[3, "userId"] = 0, 200  # past the user table (150 rows) only
    df.to_csv(tmp_path / "users.csv", index=False)
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "users.csv"),
                     "--user-table", "users", "--item-table", "items"]) == 2
    assert "users.csv, line 5: user id 200, but the user table users.weight has 150" in \
        capsys.readouterr().err
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "users.csv")]) == 2
    assert "user id 200 (line 5)" in capsys.readouterr().err  # "no pair of tables fits", and why
    df.loc[0, "movieId"] = 2 ** 63 - 1
    df.to_csv(tmp_path / "huge.csv", index=False)
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "huge.csv")]) == 2
    assert f"line 2: item id {2 ** 63 - 1}, but" in capsys.readouterr().err


def test_from_a_terminal(trained):
    done = subprocess.run([sys.executable, "-m", "mfteach", "check-model", str(trained / "zero.pt"),
                           str(trained / "r.csv")], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "embeddings collapsed to zero" in done.stdout


def test_lines_in_files_with_spaces_semicolons_and_tables_that_fit_only_swapped(trained, tmp_path,
                                                                             capsys):
    """helper-44: a timestamp with a space shifted the fields ('line None', or another id's
    line); a ';' file could not be read (no --sep); a user id past the user table but inside
    the bigger item table fitted the tables swapped, silently."""
    import pandas as pd

    df = pd.read_csv(trained / "r.csv")  # userId, movieId, rating: 150 users, 250 items
    ts = df.assign(timestamp="2020-01-01 10:00:00")[["timestamp", "userId", "movieId", "rating"]]
    ts.loc[3, "movieId"] = 10_000
    ts.to_csv(tmp_path / "ts.csv", index=False)
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "ts.csv")]) == 2
    assert "ts.csv, line 5: item id 10000" in capsys.readouterr().err
    df.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    rc = cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "semi.csv"),
                   "--sep", ";"])
    out = capsys.readouterr()
    assert rc in (0, 1) and "ratings from" in out.out and not out.err
    sw = df.assign(movieId=df["movieId"] % 150)
    sw.loc[2, "userId"] = 200
    sw.to_csv(tmp_path / "swapped.csv", index=False)
    assert cli.main(["check-model", str(trained / "good.pt"), str(tmp_path / "swapped.csv")]) == 2
    err = capsys.readouterr().err
    assert "only swapped do the tables fit" in err and "user id 200 (line 4)" in err
