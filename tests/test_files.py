import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import mfteach as mf
from mfteach import files as mf_files

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("make_corpus", HERE / "files" / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

BAD_DIR, GOOD_DIR = HERE / "files" / "bad", HERE / "files" / "good"


@pytest.fixture(params=[False, True], ids=["pandas+checks", "exact-reader-only"])
def both_readers(request, monkeypatch):
    """Run a test through the fast reader (pandas, then checks) and through the exact one alone."""
    monkeypatch.setattr(mf_files, "_SLOW_ONLY", request.param)
    return request.param


def test_the_committed_corpus_is_what_make_corpus_writes():
    """The files are real files in the repo; they must not drift from their definitions."""
    for kind, (name, content, _, _) in corpus.ALL_ON_DISK:
        p = HERE / "files" / kind / name
        assert p.read_bytes() == corpus._b(content), f"{p} differs: run tests/files/make_corpus.py"
    assert (BAD_DIR / "a_directory.csv").is_dir()
    assert len(corpus.BAD) + len(corpus.BAD_NOT_ON_DISK) + 1 >= 60 and len(corpus.GOOD) >= 30


def _check_refused(p, kwargs, expect):
    kind, line, fragment = expect
    with pytest.raises(kind) as e:
        mf.read_ratings(p, **kwargs)
    msg = str(e.value)
    assert str(p) in msg, msg  # names the file (its full path)
    assert fragment in msg, msg
    if isinstance(line, tuple):
        assert f"lines {line[0]} and {line[1]} " in msg, msg
    elif line is not None:
        # the first line named is the problem's (a message may add "like line 1")
        assert re.findall(r"\blines? \d+", msg.replace(str(p), ""))[0] == f"line {line}", msg
    else:
        assert not re.search(r"\blines? \d+", msg.replace(str(p), "")), msg
    assert len(msg) < 600 + len(str(p)), f"unbounded message ({len(msg)} characters)"
    return msg


@pytest.mark.parametrize("name, content, kwargs, expect", corpus.BAD,
                         ids=[c[0] for c in corpus.BAD])
def test_malformed_files_are_refused_naming_file_line_and_problem(both_readers, name, content,
                                                                  kwargs, expect):
    _check_refused(BAD_DIR / name, kwargs, expect)


@pytest.mark.parametrize("name, content, kwargs, expect", corpus.BAD_NOT_ON_DISK,
                         ids=[c[0] for c in corpus.BAD_NOT_ON_DISK])
def test_malformed_files_not_committed_are_refused(tmp_path, name, content, kwargs, expect):
    _check_refused(corpus.write(tmp_path, name, content), kwargs, expect)


def test_a_directory_is_refused_with_its_name():
    _check_refused(BAD_DIR / "a_directory.csv", {}, (ValueError, None, "is a directory"))


def test_both_readers_give_the_same_message_for_every_malformed_file(monkeypatch):
    for name, _, kwargs, expect in corpus.BAD:
        msgs = []
        for slow in (False, True):
            monkeypatch.setattr(mf_files, "_SLOW_ONLY", slow)
            with pytest.raises(expect[0]) as e:
                mf.read_ratings(BAD_DIR / name, **kwargs)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1], name


def _check_exact(r, triples, name):
    users = [t[0] for t in triples]
    items = [t[1] for t in triples]
    assert r.user_ids.dtype == np.int64 and r.item_ids.dtype == np.int64, name
    assert r.user_ids[r.users].tolist() == users, name  # exact Python ints: no float on the way
    assert r.item_ids[r.items].tolist() == items, name
    assert r.user_ids.tolist() == sorted(set(users)) and r.item_ids.tolist() == sorted(set(items))
    assert np.array_equal(r.ratings, np.array([t[2] for t in triples], np.float32)), name
    assert (r.n_users, r.n_items, len(r)) == (len(set(users)), len(set(items)), len(triples))


@pytest.mark.parametrize("name, content, kwargs, triples", corpus.GOOD,
                         ids=[c[0] for c in corpus.GOOD])
def test_well_formed_files_are_read_exactly(both_readers, name, content, kwargs, triples):
    _check_exact(mf.read_ratings(GOOD_DIR / name, **kwargs), triples, name)


def test_well_formed_files_not_committed(tmp_path):
    for name, content, kwargs, triples in corpus.GOOD_NOT_ON_DISK:
        r = mf.read_ratings(corpus.write(tmp_path, name, content), **kwargs)
        _check_exact(r, triples, name)


def test_the_issue_cases_exactly():
    """Ids above 2**53 stay apart, int64's max is kept, the pair key cannot overflow."""
    r = mf.read_ratings(GOOD_DIR / "snowflake_ids.csv")
    assert r.n_users == 2 and r.user_ids.tolist() == [9007199254740992, 9007199254740993]
    r = mf.read_ratings(GOOD_DIR / "int64_max_ids.csv")
    assert r.user_ids.max() == np.iinfo(np.int64).max == r.item_ids.max()
    r = mf.read_ratings(GOOD_DIR / "pair_key_beyond_int64.csv")
    assert len(r) == 3 and r.to_frame(raw_ids=True)["user"].tolist() == [0, 4294967296, 1]
    with pytest.raises(ValueError, match=r"line 2, column 'user' \(user id\): "
                                         r"'99999999999999999999999' is too large"):
        mf.read_ratings(BAD_DIR / "id_beyond_int64.csv")
    with pytest.raises(ValueError,
                       match=r"line 3, column 'rating' \(rating\): 1e\+39 is too large"):
        mf.read_ratings(BAD_DIR / "rating_1e39.csv")


def test_reads_movielens_udata(tmp_path):
    p = tmp_path / "u.data"
    p.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    r = mf.read_movielens_udata(p)
    assert len(r) == 2 and r.scale == (1.0, 5.0) and r.name == "MovieLens 100k"
    assert r.user_ids.tolist() == [186, 196]


def test_pathlike_and_str_paths_and_the_name(tmp_path):
    p = GOOD_DIR / "basic.csv"
    assert mf.read_ratings(str(p)).name == "basic.csv"
    assert mf.read_ratings(p, name="mine").name == "mine"


def test_missing_file_keeps_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        mf.read_ratings(tmp_path / "nope.csv")


def test_duplicates_kept_only_when_asked():
    r = mf.read_ratings(GOOD_DIR / "duplicates_allowed.csv", allow_duplicates=True)
    assert len(r) == 2
    with pytest.raises(ValueError, match="lines 2 and 3 rate the same"):
        mf.read_ratings(GOOD_DIR / "duplicates_allowed.csv")


@pytest.mark.parametrize("kwargs, kind, match", [
    ({"columns": ("user", "item")}, ValueError, "columns must name three columns"),
    ({"columns": "uir"}, ValueError, "columns must name three columns"),
    ({"columns": ("user", 1, "rating")}, ValueError, "three names or three positions"),
    ({"columns": (0, -1, 2)}, ValueError, "three names or three positions"),
    ({"columns": (0, True, 2)}, ValueError, "three names or three positions"),
    ({"columns": ("user", "user", "rating")}, ValueError, "three different columns"),
    ({"header": "yes"}, ValueError, "header must be True, False or 'infer'"),
    ({"header": 1}, ValueError, "header must be True, False or 'infer'"),
    ({"header": False}, ValueError, "columns given by name"),
    ({"scale": (5, 1)}, ValueError, "scale must be"),
    ({"scale": (1, float("nan"))}, ValueError, "scale must be"),
    ({"scale": 5}, ValueError, "scale must be"),
    ({"sep": "::"}, ValueError, "sep must be one character"),
    ({"sep": "1"}, ValueError, "sep must be one character"),
    ({"sep": '"'}, ValueError, "sep must be one character"),
    ({"encoding": "klingon"}, ValueError, "encoding 'klingon' is not a known text encoding"),
    ({"encoding": 8}, TypeError, "encoding must be a codec name"),
    ({"allow_duplicates": "yes"}, TypeError, "allow_duplicates must be True or False"),
])
def test_bad_arguments_name_the_parameter(kwargs, kind, match):
    with pytest.raises(kind, match=match):
        mf.read_ratings(GOOD_DIR / "basic.csv", **kwargs)


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="path must be a file path"):
        mf.read_ratings(42)


def test_the_exact_reader_restores_the_csv_field_limit(tmp_path):
    import csv

    before = csv.field_size_limit()
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating,note\n1,2,3,\n1,3,4," + "x" * 200_000 + "\n")
    r = mf.read_ratings(p)  # an empty field sends it to the exact reader; a 200k field is fine
    assert len(r) == 2 and csv.field_size_limit() == before


def test_fast_id_encoding_agrees_with_idmap():
    rng = np.random.default_rng(0)
    for ids in (rng.integers(0, 50, 1000), rng.integers(0, 2**62, 1000), np.array([7]),
                np.array([0, 2**63 - 1, 5, 5])):
        uniq, idx = mf_files._encode(ids.astype(np.int64))
        m = mf.IdMap(ids)
        assert np.array_equal(uniq, m.ids) and np.array_equal(idx, m.encode(ids))


def test_the_example_file_in_data_reads_as_documented():
    """data/toy_ratings.csv is the format students copy for their own data (data/README.md)."""
    p = HERE.parent / "data" / "toy_ratings.csv"
    r = mf.read_ratings(p, scale=(1, 5))
    assert (len(r), r.n_users, r.n_items) == (30, 8, 6)
    assert r.scale == (1.0, 5.0) and set(np.unique(r.ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_ids_written_as_other_integers_are_one_id(both_readers, tmp_path):
    """What read_ratings's docstring says: 1, 01, +1 and 1.0 are all id 1; 1.5 is refused."""
    p = tmp_path / "ids.csv"
    p.write_text("user,item,rating\n1,2,4\n01,3,5\n+1,4,3\n1.0,5,2\n")
    r = mf.read_ratings(p)
    assert list(r.user_ids) == [1] and list(r.users) == [0, 0, 0, 0]
    p.write_text("user,item,rating\n1.5,2,4\n")
    with pytest.raises(ValueError, match="line 2, column 'user'.*1.5 is not an integer"):
        mf.read_ratings(p)
