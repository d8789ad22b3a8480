"""What notebooks 01, 02 and 03 start in the background at their data cell (``prefetch_sections``) is
what their later cells ask for (03: also its timing, ``optimizer_timing``): the configs are read here from the notebooks' own source, so a
cell changed without the lesson module (or the other way round) fails."""
import re
from pathlib import Path

import pytest

from mfteach.lessons import initialization as lesson01
from mfteach.lessons import regularization as lesson02
from mfteach.lessons import skew as lesson03
from mfteach.training import TrainConfig

SRC = Path(__file__).parents[1] / "notebooks" / "src"


def statement(src, start):
    """The source of the one statement that begins with ``start`` (up to its closing bracket)."""
    i = src.index(start)
    depth, j = 0, i
    while True:
        c = src[j]
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "\n" and depth == 0 and j > i:
            return src[i:j]
        j += 1


def literal(src, start):
    """The value of ``name = <literal>`` (a statement of the notebook), with reg_config recorded."""
    code = statement(src, start)
    env = {"reg_config": lambda reg, lam, epochs=15: lesson02.reg_config(reg, lam, epochs)}
    return eval(code.split("=", 1)[1].split("#")[0], env)


@pytest.fixture
def queued(monkeypatch):
    calls = []

    def record(data, configs):
        calls.append((data, list(configs)))
        return len(calls[-1][1])

    monkeypatch.setattr(lesson01, "prefetch", record)
    monkeypatch.setattr(lesson02, "prefetch", record)
    monkeypatch.setattr(lesson03, "prefetch", record)
    return calls


def test_notebook01_prefetches_what_its_cells_train(queued):
    src = (SRC / "01_initialization.py").read_text()
    assert "lesson.prefetch_sections(split, real)" in src
    base = literal(src, "base = dict(")
    inits = literal(src, 'inits = {"N(0,1)"')
    assert re.search(r"train_many\(real, \[mf\.TrainConfig\(\*\*base, \*\*kw\) for kw in inits\.values\(\)\]\)", src)
    assert base == lesson01.SETUP and inits == lesson01.REAL_INITS
    split, real = object(), object()
    assert lesson01.prefetch_sections(split, real) == 8 + 3
    assert queued[1] == (real, [TrainConfig(**base, **kw) for kw in inits.values()])
    assert queued[0][0] is split and len(queued[0][1]) == 8


def test_notebook02_prefetches_what_its_cells_train(queued):
    src = (SRC / "02_regularization.py").read_text()
    assert "lesson.prefetch_sections(skewed, uniform, real)" in src
    skewed, uniform, real = object(), object(), object()
    overfit = literal(src, 'settings = {"none": reg_config("none", 0), "L2 batch rows')
    cliff_lams = literal(src, "lams = [5e-4")
    cliff_epochs = int(re.search(r'reg_config\("adam_weight_decay", lam, epochs=(\d+)\) for lam in lams',
                                 src).group(1))
    adamw = literal(src, 'settings = {"none": reg_config("none", 0), "AdamW')
    pairs = literal(src, "pairs = ")
    spectrum = literal(src, "spectrum_lams = ")
    real_lams = literal(src, "lams = [0.01")
    assert 'train_many(real, [reg_config("l2_batch", lam) for lam in lams] + [reg_config("none", 0)])' in src
    assert 'trained(data, reg_config("adam_weight_decay", 1e-2)), datasets.values()' in src
    assert 'datasets = {"uniform": uniform, "skewed": skewed}' in src
    assert "lesson.norm_popularity_by_regularizer(skewed)" in src
    assert 'lesson.norm_popularity_by_regularizer(skewed, {"l2_batch": 0.05})' in src
    panel = [lesson02.reg_config("l2_batch", lam) for lam in (0.05, *lesson02.sweep_strengths("l2_batch"))]

    rc = lesson02.reg_config
    expected = [(uniform, list(overfit.values())),
                (lesson02.notebook_data(), panel),
                (uniform, [rc("adam_weight_decay", 1e-2)]), (skewed, [rc("adam_weight_decay", 1e-2)]),
                (uniform, [rc("adam_weight_decay", lam, cliff_epochs) for lam in cliff_lams]),
                (skewed, [rc("adam_weight_decay", lam, cliff_epochs) for lam in cliff_lams]),
                (skewed, list(adamw.values()) + [rc(reg, lam) for reg, lam in pairs]
                 + [rc(k, r.best) for k, r in lesson02.REGULARIZERS.items()] + [rc("l2_batch", 0.05)]
                 + [rc("l2_batch" if lam else "none", lam) for lam in spectrum]),
                (real, [rc("l2_batch", lam) for lam in real_lams] + [rc("none", 0)])]
    assert lesson02.prefetch_sections(skewed, uniform, real) == sum(len(c) for _, c in expected)
    assert [(d, c) for d, c in queued] == expected
    # the panel's first run is the one queued for it: its default regularizer, strength, epochs
    import inspect
    d = {k: p.default for k, p in inspect.signature(lesson02.reg_panel).parameters.items()}
    assert lesson02.reg_config(d["reg"], d["reg_strength"], d["epochs"]) == panel[0]
    assert "panel = lesson.reg_panel()" in src


def test_notebook03_prefetches_what_its_cells_train(queued, monkeypatch):
    src = (SRC / "03_skew_optimizers.py").read_text()
    assert "lesson.prefetch_sections(skewed, sweep_configs, seed=SEED)" in src
    labels = eval(statement(src, "labels = ").split("=", 1)[1])
    assert list(labels) == list(lesson03.NORMALIZATIONS)  # section 1 trains every one of them
    assert "lesson.skew_sweep()" in src and lesson03.skew_sweep.__defaults__[0] == lesson03.SKEW_ZIPFS
    pair = [eval(f"dict({m})") for m in re.findall(r"= trained\(skewed, (.*?)\)", src)]
    assert pair == list(lesson03.SGD_BIAS_LR)
    extras = eval(re.search(r"lesson.optimizer_timing\(skewed, extras=(\(.*?\))\)", src).group(1))
    assert extras == lesson03.TIMED_EXTRAS and lesson03.optimizer_timing.__defaults__[1] == 3
    skewed, sweep = object(), {"a": [TrainConfig(lr=1)], "b": [TrainConfig(lr=2)]}
    monkeypatch.setattr(lesson03, "call_ahead", lambda key, fn, *args: queued.append((key, fn, args)))
    lesson03.prefetch_sections(skewed, sweep, seed=0)
    timing = queued.pop(7)  # after the skew sweep, before the lr sweep
    assert timing == (("optimizer_timing", id(skewed), extras, 3), lesson03._timing, (skewed, extras, 3))
    norms = [lesson03.skew_config("adam", normalization=n) for n in labels]
    uniform = lesson03.notebook_data(item_zipf=0.0, user_zipf=0.0, seed=0)
    assert queued[:2] == [(uniform, norms), (skewed, norms)]
    assert queued[2:7] == [(lesson03.notebook_data(item_zipf=z, seed=0), [lesson03.skew_config("adam", seed=0)])
                           for z in lesson03.SKEW_ZIPFS]
    assert queued[7:] == [(skewed, [TrainConfig(lr=1), TrainConfig(lr=2)]
                           + [TrainConfig(**kw) for kw in pair])]


@pytest.mark.parametrize("name", ["01_initialization", "02_regularization", "03_skew_optimizers",
                                  "05_check_your_model"])
def test_notebooks_that_train_ahead_put_every_blas_on_one_thread(name):
    """Runs ahead go to a second process only while torch and every BLAS run on one thread
    (mfteach.forked.usable: a fork beside a threaded OpenBLAS call can hang): scipy's BLAS loads
    later than the setup cell, so the environment variable must come before numpy's import."""
    src = (SRC / f"{name}.py").read_text()
    env = src.index('os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")')
    first = min(src.index(m) for m in ("\nimport numpy", "\nimport torch") if m in src)  # torch loads numpy
    assert env < first < src.index('threadpool_limits(1, user_api="blas")')
    assert "torch.set_num_threads(1)" in src
