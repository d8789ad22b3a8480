"""mf.watch + mf.diagnose on models trained by a plain PyTorch loop (tests/_plain_loop.py): each
finding fires on a model built to have that fault, healthy models get no warnings, and the
recorder changes nothing in the loop it watches."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

import mfteach as mf
from mfteach.report import LINKS, Finding, Report, anchor
from mfteach.watch import find_tables
from _plain_loop import PlainMF, fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    return mf.random_split(mf.synthetic(150, 250, 6000, item_zipf=0.8, seed=2), seed=2)


@pytest.fixture(scope="module")
def skewed():
    return mf.random_split(mf.synthetic(300, 600, 8000, item_zipf=1.2, seed=3), seed=3)


@pytest.fixture(scope="module")
def sparse_users():  # ~13 ratings per user, little noise: a dim-32 model memorises it fast
    return mf.random_split(mf.synthetic(300, 400, 5000, noise=0.3, seed=4), seed=4)


def adam(**kw):
    return lambda p: torch.optim.Adam(p, **kw)


def run(split, model, make_opt, **kw):
    opt = make_opt(model.parameters())
    rec = mf.watch(model, opt, train=split.train)
    fit(model, opt, split.train, split.val, rec=rec, **kw)
    return rec, mf.diagnose(rec)


def sizes(split, extra_items=0):
    t = split.train
    return t.n_users, t.n_items + extra_items, float(t.ratings.mean())


# -- healthy models: no warnings -----------------------------------------------------------------
HEALTHY = {
    "Adam, biases, raw ratings": (dict(biases=True), adam(lr=0.01), {}),
    "RMSprop, no biases, centred": (dict(), lambda p: torch.optim.RMSprop(p, lr=0.01),
                                    dict(centre=True)),
    "SparseAdam, EmbeddingBag(sparse), biases": (dict(biases=True, kind="bag"),
                                                 lambda p: torch.optim.SparseAdam(list(p), lr=0.01),
                                                 {}),
    "AdamW (decay that acts), Parameter tables, centred": (
        dict(kind="parameter"), lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5),
        dict(centre=True)),
}


@pytest.mark.parametrize("name", list(HEALTHY))
def test_healthy_models_get_no_warning(data, name):
    kw, make_opt, fit_kw = HEALTHY[name]
    nu, ni, mean = sizes(data)
    rec, report = run(data, PlainMF(nu, ni, mean=mean, **kw), make_opt, **fit_kw)
    assert report.warnings == [], str(report)
    assert "no warnings: looks healthy" in str(report)
    assert rec.val_rmse[-1] < 0.95 * float(np.std(data.val.ratings))  # it did learn


# -- each fault, planted ---------------------------------------------------------------------------
def _fault(name, data, sparse_users):
    nu, ni, mean = sizes(data)
    b = dict(biases=True, mean=mean)
    if name == "initial scale too large":
        return run(data, PlainMF(nu, ni, std=1.0, **b), adam(lr=0.01))
    if name == "coupled weight_decay past the cliff":
        return run(data, PlainMF(nu, ni, **b), adam(lr=0.01, weight_decay=0.05))
    if name == "embeddings collapsed to zero":
        return run(data, PlainMF(nu, ni, const=0.0, **b), adam(lr=0.01))
    if name == "AdamW decay too small to matter":
        return run(data, PlainMF(nu, ni, **b),
                   lambda p: torch.optim.AdamW(p, lr=0.001, weight_decay=0.01))
    if name == "rows never updated":  # 40 item rows nobody rated, N(0,1)
        return run(data, PlainMF(nu, ni + 40, std=1.0, **b), adam(lr=0.01))
    if name == "embeddings collapsed to rank 1":
        return run(data, PlainMF(nu, ni, const=0.1, **b), adam(lr=0.01))
    if name in ("bias terms missing on uncentred ratings", "predictions far off the rating scale"):
        return run(data, PlainMF(nu, ni), adam(lr=0.001), epochs=3)
    if name == "worse than predicting the mean":  # centred ratings, a model far too big
        return run(data, PlainMF(nu, ni, std=0.5), adam(lr=0.01), centre=True, epochs=2)
    if name == "diverged":
        return run(data, PlainMF(nu, ni, **b), lambda p: torch.optim.SGD(p, lr=50.0), epochs=2)
    if name == "learning rate at its edge":  # a schedule that jumps for one epoch
        return run(data, PlainMF(nu, ni, **b), adam(lr=0.01), lr_at={4: 0.3, 5: 0.01})
    if name == "overfitting":
        nu, ni, mean = sizes(sparse_users)
        return run(sparse_users, PlainMF(nu, ni, dim=32, biases=True, mean=mean), adam(lr=0.01),
                   epochs=12)
    if name == "dense Adam on a large table":
        return run(data, PlainMF(nu, ni + 30_000, **b), adam(lr=0.01), batch=128, epochs=2)
    raise KeyError(name)


FAULTS = {  # finding → severity
    "initial scale too large": "warning", "coupled weight_decay past the cliff": "warning",
    "embeddings collapsed to zero": "warning", "AdamW decay too small to matter": "info",
    "rows never updated": "warning", "embeddings collapsed to rank 1": "warning",
    "bias terms missing on uncentred ratings": "warning",
    "predictions far off the rating scale": "warning",
    "worse than predicting the mean": "warning", "diverged": "warning",
    "learning rate at its edge": "warning", "overfitting": "warning",
    "dense Adam on a large table": "info",
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_planted_fault_is_found(data, sparse_users, name):
    rec, report = _fault(name, data, sparse_users)
    hit = [f for f in report if f.name == name]
    assert hit, f"{name} not in {[f.name for f in report]}"
    f = hit[0]
    assert f.severity == FAULTS[name]
    assert f.evidence and f.explanation and f.fix and f.link == LINKS[name]
    assert "nan" not in str(f).lower().replace("nan ", "")  # no NaN printed as a number


def test_a_run_that_blew_up_prints_no_nan(data):
    """Every finding of a diverged run with never-rated rows (their dot products' spread is NaN
    then: it used to read "spread nan")."""
    nu, ni, mean = sizes(data, extra_items=40)
    rec, report = run(data, PlainMF(nu, ni, biases=True, mean=mean, std=1.0),
                      lambda p: torch.optim.SGD(p, lr=50.0), epochs=2)
    assert {"diverged", "rows never updated"} <= {f.name for f in report}
    assert not re.search(r"\bnan\b", str(report)), str(report)  # (the word NaN is fine)


def test_dot_products_that_add_nothing(data):
    """The collapse check reads the dot products' size, not the top singular value alone: tables
    that start tiny and never grow are flagged, and said so; a small init that learnt is not."""
    nu, ni, mean = sizes(data)
    b = dict(biases=True, mean=mean)
    _, report = run(data, PlainMF(nu, ni, std=1e-3, **b), adam(lr=1e-6), epochs=1)
    hit = [f for f in report if f.name == "embeddings collapsed to zero"]
    assert hit and "started tiny and did not grow" in hit[0].explanation, str(report)
    _, report = run(data, PlainMF(nu, ni, std=1e-3, **b), adam(lr=0.01))
    assert "embeddings collapsed to zero" not in {f.name for f in report}, str(report)
    for model, opt, why in ((PlainMF(nu, ni, const=0.0, **b), adam(lr=0.01), "started at exactly 0"),
                            (PlainMF(nu, ni, **b), adam(lr=0.01, weight_decay=0.2), "shrank")):
        _, report = run(data, model, opt)
        hit = [f for f in report if f.name == "embeddings collapsed to zero"]
        assert hit and why in hit[0].explanation, str(report)


def test_collapse_of_rated_rows_behind_never_rated_ones(data):
    """Random never-rated rows kept the all-pairs RMS over the bar while every rated row had
    collapsed (helper-36); without coupled decay the text names a penalty or no signal."""
    nu, ni, mean = sizes(data)
    m = PlainMF(nu + nu // 2, ni + ni // 2, std=0.3, biases=True, mean=mean)
    _, report = run(data, m, adam(lr=0.01), epochs=15, l2=1.0)
    hit = [f for f in report if f.name == "embeddings collapsed to zero"]
    assert hit, str(report)
    assert "no user–item signal" in hit[0].explanation and "weight_decay" not in hit[0].fix


def test_all_equal_ratings_and_overflowing_tables(data):
    """Implicit feedback (every rating 1.0) used to crash the cliff's svds; overflowing tables
    used to look healthy."""
    import copy

    nu, ni, _ = sizes(data)
    ones = copy.deepcopy(data)
    ones.train.ratings[:] = 1.0
    ones.val.ratings[:] = 1.0
    _, report = run(ones, PlainMF(nu, ni, biases=True, mean=1.0), adam(lr=0.01, weight_decay=0.01),
                    epochs=2)
    assert "initial scale too large" not in {f.name for f in report}, str(report)
    rng = np.random.default_rng(0)
    P, Q = ((rng.standard_normal((n, 8)) * 1e20).astype(np.float32) for n in (nu, ni))
    report = mf.diagnose(P, Q, train=data.train)
    assert "predictions far off the rating scale" in {f.name for f in report.warnings}, str(report)
    assert not re.search(r"\bnan\b|\binf\b", str(report)), str(report)


def test_norms_tied_to_popularity_is_info_only(skewed):
    nu, ni, mean = sizes(skewed)
    _, report = run(skewed, PlainMF(nu, ni, biases=True, mean=mean), adam(lr=0.01))
    hit = [f for f in report if f.name == "norms tied to popularity"]
    assert hit and hit[0].severity == "info" and hit[0].evidence["Spearman ρ(item norm, count)"] > 0.6
    assert report.warnings == []


def test_cold_rows_with_a_small_init_are_info(data):
    nu, ni, mean = sizes(data, 40)
    _, report = run(data, PlainMF(nu, ni, biases=True, mean=mean), adam(lr=0.01))
    f = [f for f in report if f.name == "rows never updated"][0]
    assert f.severity == "info" and f.evidence["items never updated"] == 40


def test_cold_rows_shrink_under_decoupled_decay(data):
    nu, ni, mean = sizes(data, 40)
    _, report = run(data, PlainMF(nu, ni, biases=True, mean=mean),
                    lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5))
    f = [f for f in report if f.name == "rows never updated"][0]
    assert f.evidence["items without ratings shrunk by decay"] == 40


def test_near_the_cliff_and_the_cliff_is_the_lessons(data):
    from mfteach.lessons.regularization import zero_cliff

    nu, ni, mean = sizes(data)
    star = zero_cliff(data.train, data.train.ratings.mean())
    _, report = run(data, PlainMF(nu, ni, biases=True, mean=mean),
                    adam(lr=0.01, weight_decay=0.5 * star), epochs=2)
    f = [f for f in report if f.name == "coupled weight_decay near the cliff"][0]
    assert f.evidence["cliff λ*"] == pytest.approx(star, rel=1e-6)
    _, quiet = run(data, PlainMF(nu, ni, biases=True, mean=mean),
                   adam(lr=0.01, weight_decay=0.05 * star), epochs=2)
    assert not [f for f in quiet if "cliff" in f.name]
    # λ*/10 … λ*/4: a note, not a warning (notebook 05's checklist: even λ*/10 slowed its model)
    _, below = run(data, PlainMF(nu, ni, biases=True, mean=mean),
                   adam(lr=0.01, weight_decay=0.15 * star), epochs=2)
    assert [(f.name, f.severity) for f in below if "cliff" in f.name] == [
        ("coupled weight_decay below the cliff", "info")]


# -- the recorder ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["embedding", "bag", "parameter"])
def test_recorder_changes_nothing_in_the_loop(data, kind, rng_guard):
    nu, ni, mean = sizes(data)
    finals = []
    for watched in (False, True):
        model = PlainMF(nu, ni, biases=True, mean=mean, kind=kind, seed=7)
        opt = (torch.optim.SparseAdam(list(model.parameters()), lr=0.01) if kind == "bag"
               else torch.optim.Adam(model.parameters(), lr=0.01))
        rec = mf.watch(model, opt, train=data.train) if watched else None
        fit(model, opt, data.train, data.val, epochs=2, seed=3, rec=rec)
        finals.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*finals))
    steps = -(-len(data.train) // 256) * 2
    assert rec.steps == steps and rec.steps_at == [0, steps // 2, steps]
    assert rec.names["user"] == ("P" if kind == "parameter" else "users")
    assert rec.has_biases and len(rec.user_norms) == 3 and set(rec.tables) == {0, 2}
    assert rec.sparse == (kind == "bag")


def test_recorder_under_no_grad_and_its_copies_are_copies(data):
    nu, ni, _ = sizes(data)
    model = PlainMF(nu, ni)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with torch.no_grad():
        rec = mf.watch(model, opt, train=data.train)
        model.users.weight.add_(1.0)
        rec.epoch_end()
    P0, P1 = rec.tables[0][0], rec.tables[1][0]
    assert np.allclose(P1 - P0, 1.0) and rec.user_changed.all()
    model.users.weight.data.add_(1.0)  # the snapshot does not follow the live weights
    assert np.allclose(rec.tables[1][0] - P0, 1.0)
    assert rec.val_rmse == [] or np.isnan(rec.val_rmse[0])
    rec.close()
    opt.step()
    assert rec.steps == 0


def test_train_inputs(data):
    t = data.train
    nu, ni, _ = sizes(data)
    model = PlainMF(nu, ni)
    opt = torch.optim.Adam(model.parameters())
    forms = [t, t.to_frame(),
             t.to_frame().rename(columns={"user": "userId", "item": "movieId"}),
             t.to_frame().rename(columns={"user": "user_id", "item": "item_id",
                                          "rating": "user_rating"}),
             (torch.as_tensor(t.users), torch.as_tensor(t.items), torch.as_tensor(t.ratings)),
             (t.users, t.items, t.ratings)]
    for form in forms:
        rec = mf.watch(model, opt, train=form)
        assert np.array_equal(rec.train.users, t.users) and np.allclose(rec.train.ratings, t.ratings)
        rec.close()
    with pytest.raises(ValueError, match="no item column"):
        mf.watch(model, opt, train=pd.DataFrame({"user": [0], "thing": [1], "rating": [3.0]}))
    with pytest.raises(TypeError, match="train must be"):
        mf.watch(model, opt, train="ratings.csv")


def test_bad_ids_name_the_column_and_value(data):
    nu, ni, _ = sizes(data)
    model = PlainMF(nu, ni)
    opt = torch.optim.Adam(model.parameters())
    df = data.train.to_frame().rename(columns={"item": "movieId"})
    df.loc[0, "movieId"] = ni + 5  # one id past the table (which is bigger than any other id)
    with pytest.raises(ValueError, match=rf"no pair of tables|'movieId' holds id {ni + 5}"):
        mf.watch(model, opt, train=df)
    with pytest.raises(ValueError, match=rf"'movieId' holds id {ni + 5}"):
        mf.watch(model, opt, train=df, user_table="users", item_table="items")
    df.loc[0, "movieId"] = -1
    with pytest.raises(ValueError, match="'movieId' holds id -1"):
        mf.watch(model, opt, train=df)


def test_ambiguous_tables_ask_for_names():
    r = mf.synthetic(50, 50, 800, seed=0)

    class Two(nn.Module):  # square data, names that say nothing
        def __init__(self):
            super().__init__()
            self.a = nn.Embedding(50, 8)
            self.b = nn.Embedding(50, 8)

    m = Two()
    opt = torch.optim.Adam(m.parameters())
    with pytest.raises(ValueError, match=r"several pairs.*a \(50, 8\).*user_table="):
        mf.watch(m, opt, train=r)
    rec = mf.watch(m, opt, train=r, user_table="a", item_table="b.weight")
    assert rec.names["user"] == "a" and rec.names["item"] == "b"
    with pytest.raises(ValueError, match="is not a table"):
        mf.watch(m, opt, train=r, user_table="c", item_table="b")
    with pytest.raises(ValueError, match="does not update the tables"):
        mf.watch(m, torch.optim.Adam([nn.Parameter(torch.zeros(2))]), train=r, user_table="a",
                 item_table="b")


def test_a_dim_1_model_is_watched_when_its_tables_are_named():
    """One-column tables look like bias terms: auto-detection says so, and named tables are not
    taken for their own biases (the real biases were missed: 'bias terms missing', wrongly)."""
    r = mf.synthetic(60, 80, 1500, seed=0)

    class Dim1(nn.Module):
        def __init__(self):
            super().__init__()
            self.user_emb, self.item_emb = nn.Embedding(60, 1), nn.Embedding(80, 1)
            self.user_bias, self.item_bias = nn.Embedding(60, 1), nn.Embedding(80, 1)

    m = Dim1()
    opt = torch.optim.Adam(m.parameters())
    with pytest.raises(ValueError, match="no pair.*a dim-1 model needs them named"):
        mf.watch(m, opt, train=r)
    rec = mf.watch(m, opt, train=r, user_table="user_emb", item_table="item_emb")
    assert (rec.names["user"], rec.names["item"]) == ("user_emb", "item_emb")
    found = find_tables(m, 60, 80, user_table="user_emb", item_table="item_emb")
    assert found["user_bias"][0] == "user_bias" and found["item_bias"][0] == "item_bias"


def test_epochs_without_an_optimizer_step_are_said_not_judged(data):
    """A loop that forgot opt.step() was 'looks healthy' (or 'diverged … lower the lr' with a
    NaN passed in): nothing trained, so nothing about training is judged (helper-43)."""
    nu, ni, mean = sizes(data)
    model = PlainMF(nu, ni, biases=True, mean=mean)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rec = mf.watch(model, opt, train=data.train)
    for v in (1.0, float("nan")):
        rec.epoch_end(val_rmse=v)
    report = mf.diagnose(rec)
    assert [f.name for f in report.warnings] == ["no optimizer step"]
    assert "optimizer.step()" in report.warnings[0].fix and "nan" not in str(report).lower()
    # an optimizer made inside the loop trains the tables: not "as they were at attach time"
    rec = mf.watch(model, opt, train=data.train)
    fit(model, torch.optim.Adam(model.parameters(), lr=0.01), data.train, data.val, epochs=1)
    rec.epoch_end(val_rmse=1.0)
    w = mf.diagnose(rec).warnings[0]
    assert w.name == "no optimizer step" and "another one trains them" in w.explanation
    assert "before the loop" in w.fix


def test_settings_of_every_table_group_and_tensor_lrs(data):
    """Every group holding a table is read (only the first was): the larger lr (the one that
    can diverge), the smaller weight_decay (the cliff needs decay on both tables: on the item
    table alone the job ended better than without decay, helper-44); lr=torch.tensor(…) is a
    number, not 'not a number' (helper-43)."""
    from mfteach.watch import _settings

    groups = [{"params": [], "lr": 0.01, "weight_decay": 0.0, "betas": (0.9, 0.999)},
              {"params": [], "lr": torch.tensor(1e6), "weight_decay": 0.5, "betas": (0.9, 0.99)}]
    got = _settings(groups)
    assert got["lr"] == 1e6 and isinstance(got["lr"], float) and got["weight_decay"] == 0.0
    assert got["betas"] == (0.9, 0.999)  # not a number: the first group's
    nu, ni, _ = sizes(data)
    model = PlainMF(nu, ni)
    opt = torch.optim.Adam([{"params": [model.users.weight]},
                            {"params": [model.items.weight], "weight_decay": 0.5}], lr=0.01)
    rec = mf.watch(model, opt, train=data.train)
    assert rec.settings[0]["weight_decay"] == 0.0
    opt.param_groups[0]["weight_decay"] = 0.01
    assert mf.watch(model, opt, train=data.train).settings[0]["weight_decay"] == 0.01


def test_tables_diagnose_cannot_read_are_refused_by_name():
    r = mf.synthetic(60, 80, 1500, seed=0)

    class TwoDims(nn.Module):  # a Linear maps users into the items' space: not ⟨p, q⟩
        def __init__(self):
            super().__init__()
            self.user_emb, self.item_emb = nn.Embedding(60, 8), nn.Embedding(80, 16)

    m = TwoDims()
    with pytest.raises(ValueError, match=r"user_table 'user_emb' \(dim 8\) and item_table "
                                         r"'item_emb' \(dim 16\) must have the same dim"):
        mf.watch(m, torch.optim.Adam(m.parameters()), train=r, user_table="user_emb",
                 item_table="item_emb")
    with torch.device("meta"):
        meta = PlainMF(60, 80)
    with pytest.raises(ValueError, match="'meta' device"):
        mf.watch(meta, None, train=r)


def test_an_mlp_on_top_is_not_read_as_bias_terms():
    """The last Linear(16, 1)'s bias was taken for a global bias ('with biases'); the report now
    says which parameters its dot-product checks leave out (helper-43)."""
    r = mf.synthetic(60, 80, 1500, seed=0)

    class NCF(nn.Module):
        def __init__(self):
            super().__init__()
            self.user_emb, self.item_emb = nn.Embedding(60, 8), nn.Embedding(80, 8)
            self.mlp = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))

    m = NCF()
    rec = mf.watch(m, torch.optim.Adam(m.parameters()), train=r)
    assert rec.names["global_bias"] is None and not rec.has_biases
    assert rec.others == ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]
    assert "other parameters (mlp.0.weight, mlp.0.bias, mlp.2.weight, … 4 in all)" in \
        str(mf.diagnose(rec))


def test_diagnose_bare_tables(data):
    nu, ni, mean = sizes(data)
    model = PlainMF(nu, ni, biases=True, mean=mean)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    fit(model, opt, data.train, data.val, epochs=3)
    report = mf.diagnose(model.users.weight, model.items.weight, train=data.train)
    assert report.warnings == [] and any("need the run" in n for n in report.notes)
    zero = mf.diagnose(np.zeros((nu, 4)), np.zeros((ni, 4)), train=data.train, has_biases=False)
    assert {"embeddings collapsed to zero", "bias terms missing on uncentred ratings"} <= {
        f.name for f in zero.warnings}
    with pytest.raises(TypeError, match="train="):
        mf.diagnose(model.users.weight, model.items.weight)
    with pytest.raises(ValueError, match="same dim"):
        mf.diagnose(np.zeros((nu, 4)), np.zeros((ni, 3)), train=data.train)


def test_report_text_html_frame():
    f = Finding("overfitting", "warning", {"val": 0.9, "bad": float("nan"), "<tag>": 1},
                "rose & fell", "stop <early>")
    r = Report([Finding("norms tied to popularity", "info", {"ρ": 0.7}, "x", "y"), f], ["z"])
    assert [x.name for x in r] == ["overfitting", "norms tied to popularity"]  # warnings first
    assert r.warnings == [r[0]] and r[0].link == LINKS["overfitting"] and isinstance(r, list)
    text = str(r)
    assert "1 warning(s)" in text and "not a number" in text and "nan" not in text
    html = r._repr_html_()
    assert "&lt;tag&gt;" in html and "stop &lt;early&gt;" in html and "<table>" in html
    frame = r.to_frame()
    assert list(frame.columns) == ["severity", "finding", "evidence", "explanation", "fix", "link"]
    assert len(frame) == 2 and frame.loc[0, "finding"] == "overfitting"
    empty = Report()
    assert str(empty).startswith("no warnings: looks healthy") and len(empty.to_frame()) == 0
    assert "looks healthy" in empty._repr_html_()


def test_links_point_at_real_headings():
    headings = {}
    for src in (ROOT / "notebooks" / "src").glob("*.py"):
        for line in src.read_text().splitlines():
            m = re.match(r"# (#{1,4}) (.+)$", line)
            if m:
                headings.setdefault(src.stem, set()).add(anchor(m.group(2)))
    for name, link in LINKS.items():
        nb, frag = re.match(r"notebooks/(.+)\.ipynb#(.+)$", link).groups()
        assert frag in headings[nb], f"{name}: no heading {frag!r} in {nb}"


def test_history_diagnose_returns_a_report(small):
    h = mf.train(small, epochs=2)
    report = mf.diagnose(h, small)
    assert isinstance(report, Report) and isinstance(report, list)
    assert all(f.link for f in report if f.name in LINKS)


def test_epoch_end_takes_one_number_per_rmse():
    r = mf.synthetic(60, 80, 1500, seed=0)
    m = PlainMF(60, 80)
    rec = mf.watch(m, None, train=r)
    for bad in (True, torch.tensor([1.0, 2.0]), "0.9"):
        with pytest.raises(TypeError, match="val_rmse must be one number"):
            rec.epoch_end(val_rmse=bad)
    rec.epoch_end(val_rmse=torch.tensor(0.5), train_rmse=np.float32(0.25))
    assert (rec.val_rmse, rec.train_rmse) == ([0.5], [0.25])
