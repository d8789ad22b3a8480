"""Runs kept on disk are exactly the runs trained again, and the cache fails safe."""
from pathlib import Path

import numpy as np
import pytest
import torch

import mfteach as mf
from mfteach import runcache
from mfteach.lessons import common


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(runcache.ENV, str(tmp_path / "runs"))
    common._RUNS.clear()
    yield tmp_path / "runs"
    common._RUNS.clear()


def same(a: mf.History, b: mf.History):
    for k in ("train_rmse", "val_rmse", "seconds", "grad_norm", "steps", "global_init", "n_val",
              "last_sane_epoch", "diverged"):
        assert np.array_equal(np.asarray(getattr(a, k), float), np.asarray(getattr(b, k), float),
                              equal_nan=True) if k not in ("diverged",) else getattr(a, k) == getattr(b, k), k
    for k in ("user_norms", "item_norms"):
        assert len(getattr(a, k)) == len(getattr(b, k))
        for x, y in zip(getattr(a, k), getattr(b, k)):
            assert x.dtype == y.dtype and np.array_equal(x, y), k
    assert a.tables.keys() == b.tables.keys()
    for e in a.tables:
        for x, y in zip(a.tables[e], b.tables[e]):
            assert np.array_equal(x, y)
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
    assert np.array_equal(a.train_item_counts, b.train_item_counts)
    assert np.array_equal(a.train_user_counts, b.train_user_counts)
    assert (a.normalizer.kind, a.normalizer.mean, a.normalizer.std) == \
        (b.normalizer.kind, b.normalizer.mean, b.normalizer.std)
    users, items = np.arange(20) % 200, np.arange(20) * 7 % 300
    assert np.array_equal(a.predict(users, items), b.predict(users, items))
    assert np.array_equal(a.initial_predictions(users, items), b.initial_predictions(users, items))


@pytest.mark.parametrize("overrides", [
    dict(epochs=3),
    dict(epochs=3, normalize="user", snapshot_epochs=(1,), reg="l2_batch", reg_strength=0.05),
    dict(epochs=2, optimizer="sparse_adam", user_bias=False),
    dict(epochs=2, normalize="zscore", global_bias=False, item_bias=False),
    dict(epochs=5, optimizer="sgd", lr=500.0),   # diverges: the reset model and reason are kept
])
def test_a_kept_run_is_the_run_trained_again(cache, small, overrides):
    fresh = mf.train(small, **overrides)
    cfg = mf.TrainConfig(**overrides)
    assert runcache.load(small, cfg) is None
    assert runcache.save(small, cfg, fresh)
    back = runcache.load(small, cfg)
    assert back is not None and back is not fresh
    same(fresh, back)
    if overrides.get("lr") == 500.0:
        assert back.diverged is not None and back.last_sane_epoch is not None


def test_trained_reads_another_kernels_run(cache, small):
    cfg = mf.TrainConfig(epochs=2)
    h1 = common.trained(small, cfg)
    assert len(list(cache.glob("*.pt"))) == 1
    common._RUNS.clear()  # a new kernel: nothing in memory
    h2 = common.trained(small, cfg)
    assert h2 is not h1
    same(h1, h2)


def test_epochs_at_hand_counts_memory_disk_and_the_run_it_would_go_on_from(cache, small):
    """What a panel asks before showing a long run's first epochs: how much needs no training."""
    cfg = mf.TrainConfig(epochs=6)
    assert common.epochs_at_hand(small, cfg) == 0 and not runcache.has(small, cfg)
    common.trained(small, cfg.replace(epochs=2))
    assert common.epochs_at_hand(small, cfg) == 2                 # goes on from 2 epochs
    assert common.epochs_at_hand(small, cfg.replace(epochs=1)) == 0  # nothing shorter than 1
    common.trained(small, cfg)
    assert common.epochs_at_hand(small, cfg) == 6                 # in memory
    common._RUNS.clear()                                          # a new kernel
    assert runcache.has(small, cfg) and common.epochs_at_hand(small, cfg) == 6  # on disk
    assert common.epochs_at_hand(small, cfg.replace(lr=0.03)) == 0


def test_the_key_follows_data_config_and_code(cache, small, monkeypatch):
    cfg = mf.TrainConfig(epochs=2)
    k = runcache.key(small, cfg)
    assert k == runcache.key(small, mf.TrainConfig(epochs=2))
    assert k != runcache.key(small, cfg.replace(seed=1))
    r = small.train
    changed = mf.Ratings(r.users, r.items, r.ratings + np.where(np.arange(len(r)) == 5, 0.5, 0),
                         n_users=r.n_users, n_items=r.n_items)
    assert k != runcache.key(mf.Split(changed, small.val, small.test), cfg)
    monkeypatch.setattr(runcache, "_CODE", ["another version of the code"])
    assert k != runcache.key(small, cfg)


def test_a_tagged_state_round_trips_under_its_own_key(cache, small, monkeypatch):
    """load_state/save_state: a lesson's own loop kept under a tag (not a TrainConfig)."""
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "record": {"val": [1.0, float("nan")]}}
    assert runcache.load_state(small, "lesson x seed=1") is None
    assert runcache.save_state(small, "lesson x seed=1", state)
    back = runcache.load_state(small, "lesson x seed=1")
    assert torch.equal(back["model"]["w"], state["model"]["w"]) and back["record"]["val"][0] == 1.0
    assert runcache.load_state(small, "lesson x seed=2") is None          # another tag, another run
    assert runcache.tag_key(small, repr(mf.TrainConfig())) != runcache.key(small, mf.TrainConfig())
    assert not runcache.save_state(small.train, "lesson x seed=1", state)  # Ratings: not kept
    monkeypatch.setattr(runcache, "_CODE", ["another version of the code"])
    assert runcache.load_state(small, "lesson x seed=1") is None
    monkeypatch.setenv(runcache.ENV, "off")
    assert not runcache.save_state(small, "lesson x seed=1", state)


def test_off_and_cpu_only(small, monkeypatch, tmp_path):
    monkeypatch.setenv(runcache.ENV, "off")
    assert runcache.folder() is None
    h = mf.train(small, epochs=1)
    assert not runcache.save(small, mf.TrainConfig(epochs=1), h)
    monkeypatch.setenv(runcache.ENV, str(tmp_path))
    assert not runcache.save(small, mf.TrainConfig(epochs=1, device="cuda"), h)  # never kept
    assert runcache.load(small.train, mf.TrainConfig(epochs=1)) is None         # Ratings: not kept


def test_a_damaged_file_is_a_miss_and_goes(cache, small):
    cfg = mf.TrainConfig(epochs=1)
    runcache.save(small, cfg, mf.train(small, cfg))
    (path,) = cache.glob("*.pt")
    path.write_bytes(path.read_bytes()[:200])
    assert runcache.load(small, cfg) is None and not path.exists()
    path.write_bytes(b"not a torch file")
    assert runcache.load(small, cfg) is None and not path.exists()


def test_a_pickled_object_is_refused(cache, small):
    """weights_only: a file holding a pickled object is not executed, only refused (a miss)."""
    cfg = mf.TrainConfig(epochs=1)
    runcache.save(small, cfg, mf.train(small, cfg))
    (path,) = cache.glob("*.pt")
    import hashlib, io

    buf = io.BytesIO()
    torch.save({"x": mf.TrainConfig()}, buf)  # a class instance: not allowed by weights_only
    payload = buf.getvalue()                  # (with the right checksum: only torch.load refuses)
    path.write_bytes(runcache._MAGIC + hashlib.sha256(payload).digest() + payload)
    assert runcache.load(small, cfg) is None and not path.exists()


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_a_changed_byte_is_a_miss_not_other_numbers(cache, small, where):
    """torch.load does not check its zip's CRCs: a byte changed in a tensor's data read back as
    other numbers. The file's sha256 is checked first."""
    cfg = mf.TrainConfig(epochs=2)
    runcache.save(small, cfg, mf.train(small, cfg))
    (path,) = cache.glob("*.pt")
    raw = bytearray(path.read_bytes())
    raw[int(where * len(raw))] ^= 0x40
    path.write_bytes(bytes(raw))
    assert runcache.load(small, cfg) is None and not path.exists()


def test_a_tagged_run_of_torchs_thread_count_is_keyed_by_it(cache, small, monkeypatch):
    cfg = mf.TrainConfig(epochs=1, threads=None)
    names = set()
    for n in (1, 2):
        monkeypatch.setattr(runcache.torch, "get_num_threads", lambda n=n: n)
        names.add(runcache._name(small, cfg, "a lesson's run"))
    assert len(names) == 2


def test_unwritable_folder_warns_once_and_trains(small, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv(runcache.ENV, str(blocker / "runs"))
    monkeypatch.setattr(runcache, "_WARNED", [])
    cfg = mf.TrainConfig(epochs=1)
    with pytest.warns(RuntimeWarning, match="not kept on disk"):
        assert not runcache.save(small, cfg, mf.train(small, cfg))
    assert not list(tmp_path.glob("**/*.tmp"))


def test_least_recently_used_go_first(cache, small, monkeypatch):
    import os

    paths = []
    for seed in range(3):
        cfg = mf.TrainConfig(epochs=1, seed=seed)
        runcache.save(small, cfg, mf.train(small, cfg))
        paths.append(cache / f"{runcache.key(small, cfg)}.pt")
    for i, p in enumerate(paths):
        os.utime(p, (1000 + i, 1000 + i))
    os.utime(paths[0], (5000, 5000))  # the first one was used last
    one = paths[0].stat().st_size
    runcache._prune(cache, limit=2 * one + 10)
    assert paths[0].exists() and paths[2].exists() and not paths[1].exists()
    assert runcache.clear() == 2 and runcache.size() == 0


def test_a_refused_or_full_disk_is_a_warning_not_a_traceback(cache, small, monkeypatch):
    """A full disk (or torch.save's RuntimeError): one warning, no temporary file left, and the
    run is returned."""
    real = Path.write_bytes

    def full(self, data):
        real(self, data[:4])  # what a full disk leaves behind
        raise OSError(28, "No space left on device", str(self))
    monkeypatch.setattr(Path, "write_bytes", full)
    monkeypatch.setattr(runcache, "_WARNED", [])
    cfg = mf.TrainConfig(epochs=1)
    with pytest.warns(RuntimeWarning, match="not kept on disk"):
        h = common.trained(small, cfg)
    assert h.ok and not list(cache.glob(".*"))


def test_a_damaged_file_we_may_not_remove_is_still_a_miss(cache, small, monkeypatch):
    cfg = mf.TrainConfig(epochs=1)
    runcache.save(small, cfg, mf.train(small, cfg))
    (path,) = cache.glob("*.pt")
    path.write_bytes(b"garbage")
    real_unlink = Path.unlink

    def refused(self, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "unlink", refused)
    assert runcache.load(small, cfg) is None  # no PermissionError
    monkeypatch.setattr(Path, "unlink", real_unlink)


def test_the_key_covers_scale_and_default_dtype(small):
    cfg = mf.TrainConfig(epochs=2)
    k = runcache.key(small, cfg)
    wide = small.map(lambda r: r.replace(scale=(-1000.0, 1000.0)))
    assert runcache.key(wide, cfg) != k  # the scale sets when a run counts as blown up
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert runcache.key(small, cfg) != k
    finally:
        torch.set_default_dtype(old)
    assert runcache.key(small, cfg) == k


@pytest.mark.parametrize("value, expect", [
    ("off", None), (" OFF ", None), ("0", None), ("disabled", None),
    ("", "default"), ("1", "default"), ("on", "default"), ("true", "default"),
])
def test_switch_values(monkeypatch, value, expect):
    monkeypatch.setenv(runcache.ENV, value)
    got = runcache.folder()
    if expect is None:
        assert got is None
    else:
        assert got is not None and got.name == "runs" and got.is_absolute()


def test_paths_are_expanded_and_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_RUNS_BASE", str(tmp_path))
    monkeypatch.setenv(runcache.ENV, "$MY_RUNS_BASE/runs")
    assert runcache.folder() == tmp_path / "runs"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(runcache.ENV, "rel")
    assert runcache.folder() == tmp_path / "rel"


def test_a_custom_init_run_is_kept_and_read_back(cache, small, monkeypatch):
    """Lesson 01's two-scale runs (a custom init and optimizer, so not a TrainConfig alone) are
    kept under a tag: read back, they are the run trained again."""
    from mfteach.lessons import initialization as lesson01

    first = lesson01.train_with_stds(small, 0.3, 0.01, "sgd", seed=2, epochs=3)
    assert len(list(cache.glob("*.pt"))) == 1
    monkeypatch.setattr(lesson01, "train", lambda *a, **k: pytest.fail("trained again"))
    kept = lesson01.train_with_stds(small, 0.3, 0.01, "sgd", seed=2, epochs=3)
    same(kept, first)
    for other in [dict(user_std=0.31), dict(optimizer="adam"), dict(seed=3), dict(epochs=4)]:
        args = dict(user_std=0.3, item_std=0.01, optimizer="sgd", seed=2, epochs=3) | other
        with pytest.raises(pytest.fail.Exception, match="trained again"):
            lesson01.train_with_stds(small, args.pop("user_std"), args.pop("item_std"),
                                     args.pop("optimizer"), **args)
    # a std given as a 0-d tensor is keyed by its value, not its rounded repr ("tensor(0.3000)")
    monkeypatch.undo()
    a = lesson01.train_with_stds(small, torch.tensor(0.3), 0.01, "sgd", seed=2, epochs=3)
    b = lesson01.train_with_stds(small, torch.tensor(0.30004), 0.01, "sgd", seed=2, epochs=3)
    assert a.val_rmse != b.val_rmse
    with pytest.raises(TypeError, match="user_std"):
        lesson01.train_with_stds(small, "0.3", 0.01, "sgd")
