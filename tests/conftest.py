import os
os.environ.setdefault("MPLBACKEND", "Agg")  # headless: tests never open windows

import numpy as np
import pytest

import mfteach as mf


@pytest.fixture(scope="session")
def small():
    """A small skewed synthetic split: fast enough to train many times in tests."""
    return mf.random_split(mf.synthetic(200, 300, 8000, item_zipf=1.0, user_zipf=0.5, seed=1), seed=1)


@pytest.fixture(scope="session")
def notebook_data():
    """The notebooks' default data (600 users × 1,500 items, 50k ratings, skewed)."""
    return mf.random_split(mf.synthetic(item_zipf=1.2, user_zipf=0.8), seed=0)


@pytest.fixture
def rng_guard():
    """Fails the test if library code touched numpy's or torch's global RNG state."""
    import torch

    np_state, torch_state = np.random.get_state(), torch.random.get_rng_state()
    yield
    assert torch.equal(torch.random.get_rng_state(), torch_state), "torch global RNG was touched"
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:], \
        "numpy global RNG was touched"


@pytest.fixture(autouse=True)
def _progress_file(tmp_path, monkeypatch):
    """Exercise checks record the learner's progress: in tests, into a temporary file."""
    monkeypatch.setenv("MFTEACH_PROGRESS", str(tmp_path / "progress.json"))

# Runs kept on disk (mfteach.runcache) would let one test see another's results, and a claim
# pass on numbers it did not compute: every test and the kernels it starts train afresh, except
# tests/test_runcache.py, which points the cache at a temporary folder.
os.environ["MFTEACH_RUN_CACHE"] = "off"
