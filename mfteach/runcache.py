"""Finished training runs kept on disk, so a run is trained once per machine, not once per kernel.

A notebook run twice, the same run asked for by two notebooks, thirty students' kernels on one
classroom server: each finds the History the first one trained. A run is the same numbers
whatever trained it (every run is seeded by its config), so a kept run is exactly what training
again would return (tests/test_runcache.py checks every field). The key covers everything the
numbers depend on: the training and validation data (their bytes and rating scale), the config,
this package's source code (as imported), the torch and numpy versions, the CPU's kernels, torch's
default dtype (and the thread count for ``threads=None``, scikit-learn's version for "zscore");
change any of it and the run is trained again.

Where: ``$MFTEACH_RUN_CACHE`` if set (``off`` turns the cache off: the tests do), else
``runs/`` in the data cache folder (``$MFTEACH_DATA`` or ~/.cache/mfteach). Files are written to a
temporary name and renamed (never half-written), carry a sha256 of their bytes (``torch.load``
does not check its zip's CRCs: a changed byte would read back as other numbers), are read with
``torch.load(weights_only=True)`` (no pickled code), and the least recently used go first past ``MAX_BYTES`` (checked on
the first save and every ``PRUNE_EVERY``-th after). A file that cannot be read
is a miss (removed when it may be, and the run trained again); a folder that cannot be written
(a class's shared, read-only cache; a full disk) is skipped with one warning: its runs are still
read.
"""
from __future__ import annotations

import hashlib
import io
import os
import platform
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .data import Ratings, Split
from .history import History

__all__ = ["ENV", "MAX_BYTES", "folder", "key", "tag_key", "load", "save", "load_state",
           "save_state", "stamp", "clear", "size"]

ENV = "MFTEACH_RUN_CACHE"
MAX_BYTES = 1024 * 2 ** 20       # ~1,000 runs of the notebooks' size
_OFF = ("0", "off", "false", "no", "none", "disabled")
_ON = ("", "1", "on", "true", "yes", "default")
_CODE: list = []                 # the package's source digest, computed once per process
_LOCK = threading.Lock()
_WARNED: list = []
_MAGIC = b"mfteach-run 2\n"  # then the payload's sha256 (32 bytes), then torch.save's bytes
PRUNE_EVERY = 16                 # saves between two checks of MAX_BYTES (≤ ~16 MB over it)
_SAVES = [0]


def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    env = os.environ.get(ENV, "").strip()
    if env.lower() in _OFF:
        return None
    if env and env.lower() not in _ON:
        # a path: ~ and $VARS expanded; a relative one is taken from the current folder
        return Path(os.path.expandvars(env)).expanduser().absolute()
    from .datasets import cache_dir

    return cache_dir() / "runs"


def _code_digest() -> str:
    """sha256 of every .py file of the package: any change to the code is a new key. Taken when
    this module is imported (with the code the kernel runs), not at the first key: a package
    updated on disk under a running kernel must not get that kernel's runs."""
    if not _CODE:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parent
        for p in sorted(root.rglob("*.py")):
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
        _CODE.append(h.hexdigest())
    return _CODE[0]


def _ratings_digest(h, r: Ratings):
    h.update(f"{r.n_users},{r.n_items},{len(r)},{r.scale!r};".encode())  # scale: the blow-up test
    for a in (r.users, r.items, r.ratings):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.tobytes())


def _cpu_capability() -> str:
    """The CPU kernels torch picked (AVX2, AVX512 …): they may round differently."""
    try:
        return torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 - older torch
        return "?"


def _version(dist) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "none"


def key(data: Split, config: TrainConfig) -> str:
    """The file name a run of ``config`` on ``data`` is kept under (hex sha256)."""
    h = _base(f"{config!r};")
    h.update(_extras(config).encode())
    return _with_data(h, data)


def _extras(config: TrainConfig) -> str:
    """What a config's numbers depend on beyond the config itself."""
    out = ""
    if config.threads is None:  # trained on whatever torch uses now: more threads, other sums
        out += f"threads {torch.get_num_threads()};"
    if config.normalize == "zscore":  # scikit-learn's StandardScaler fits the scale
        out += f"sklearn {_version('scikit-learn')};"
    return out


def tag_key(data: Split, tag: str) -> str:
    """The file name a run that is not ``train(config)`` is kept under (see ``load_state``)."""
    return _with_data(_base(f"tag {tag};"), data)  # "tag …" never equals a config's repr


def stamp() -> str:
    """What every key shares (this code, torch, numpy, the CPU's kernels, the dtype), hashed:
    a file named with it is about runs this machine would key the same way."""
    return _base("").hexdigest()


def _base(what: str):
    h = hashlib.sha256()
    h.update(f"{_code_digest()};torch {torch.__version__};numpy {np.__version__};"
             f"{platform.machine()};{_cpu_capability()};{torch.get_default_dtype()};"
             f"{what}".encode())
    return h


def _with_data(h, data: Split) -> str:
    for r in (data.train, data.val):  # the test set plays no part in training
        _ratings_digest(h, r)
    return h.hexdigest()


def _usable(data, config) -> bool:
    # Only CPU runs on a Split: a GPU's numbers may differ in the last bits from the CPU's.
    return (isinstance(data, Split) and isinstance(config, TrainConfig)
            and torch.device(config.device).type == "cpu")


def _name(data, config, tag) -> str:
    return (key(data, config) if tag is None
            else tag_key(data, f"{tag}; {config!r}; {_extras(config)}"))


def load(data, config, tag: str | None = None) -> History | None:
    """The kept History of this run, or None (cache off, not kept yet, unreadable). ``tag``: a
    run of ``config`` that the config alone does not describe (a custom init or optimizer)."""
    if not _usable(data, config):
        return None
    name = _name(data, config, tag)
    state = _read(name)
    if state is None:
        return None
    try:
        return History.from_state(state, config)
    except Exception:  # noqa: BLE001 - a file of another shape is a miss, not a failure
        _remove(folder() / f"{name}.pt")
        return None


def has(data, config) -> bool:
    """Whether this run is kept (a file by its name: ``load`` may still find it damaged)."""
    where = folder()
    return (where is not None and _usable(data, config)
            and (where / f"{_name(data, config, None)}.pt").is_file())


def save(data, config, history: History, tag: str | None = None) -> bool:
    """Keep ``history``; True if it was written. Never raises for a folder that cannot be
    written (one warning, then the cache is skipped)."""
    if not _usable(data, config) or history.model is None:
        return False
    return _write(_name(data, config, tag), history.to_state())


def load_state(data, tag: str) -> dict | None:
    """What ``save_state(data, tag, …)`` kept, or None: for a run that is not ``train(config)``
    (a lesson's own loop). ``tag`` must name everything its numbers depend on besides ``data``,
    the package's code and the machine (settings, seed, thread count …)."""
    return _read(tag_key(data, tag)) if isinstance(data, Split) else None


def save_state(data, tag: str, state: dict) -> bool:
    """Keep ``state`` (tensors, numbers, strings, lists, tuples and dicts of them) under ``tag``."""
    return isinstance(data, Split) and _write(tag_key(data, tag), state)


def _read(name: str) -> dict | None:
    where = folder()
    if where is None:
        return None
    path = where / f"{name}.pt"
    try:
        raw = path.read_bytes()
        head, digest, payload = raw[:len(_MAGIC)], raw[len(_MAGIC):len(_MAGIC) + 32], \
            raw[len(_MAGIC) + 32:]
        if head != _MAGIC or hashlib.sha256(payload).digest() != digest:
            raise ValueError(f"{path}: damaged (its bytes are not the ones written)")
        state = torch.load(io.BytesIO(payload), weights_only=True)
        if not isinstance(state, dict):
            raise ValueError(f"{path}: not a kept run")
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged or foreign file is a miss, not a failure
        _remove(path)  # (a folder we may only read keeps it: still a miss)
        return None
    try:
        os.utime(path)  # recently used: kept longest
    except OSError:
        pass
    return state


def _write(name: str, state: dict) -> bool:
    where = folder()
    if where is None:
        return False
    path = where / f"{name}.pt"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        where.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(state, buf)
        payload = buf.getvalue()
        tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)  # atomic: a reader sees the old file, the new one, or none
    except (OSError, RuntimeError) as e:  # torch.save reports a refused or full disk as RuntimeError
        _remove(tmp)
        if not _WARNED:
            _WARNED.append(True)
            warnings.warn(f"mfteach: runs are not kept on disk ({e}); set {ENV}=off to silence "
                          f"this, or to a folder that can be written", RuntimeWarning, stacklevel=3)
        return False
    with _LOCK:
        _SAVES[0] += 1
        due = _SAVES[0] % PRUNE_EVERY == 1 or PRUNE_EVERY == 1
    if due:  # listing ~1,000 files costs ~8 ms: not on every slider move
        _prune(where)
    return True


def _remove(path: Path):
    try:
        path.unlink(missing_ok=True)
    except OSError:  # not ours to remove, or the folder is not there
        pass


def _files(where: Path):
    out = []
    for p in where.glob("*.pt"):
        try:
            st = p.stat()
        except OSError:  # removed meanwhile by another process
            continue
        out.append((st.st_mtime, st.st_size, p))
    return out


def size() -> int:
    """Bytes the cache holds now (0 when it is off)."""
    where = folder()
    return sum(s for _, s, _ in _files(where)) if where is not None and where.is_dir() else 0


def _prune(where: Path, limit: int | None = None):
    limit = MAX_BYTES if limit is None else limit
    with _LOCK:
        for tmp in where.glob(".*.tmp"):  # left by a kernel killed while saving
            try:
                if time.time() - tmp.stat().st_mtime > 3600:
                    _remove(tmp)
            except OSError:
                pass
        files = sorted(_files(where))  # oldest use first
        total = sum(s for _, s, _ in files)
        for _, s, p in files:
            if total <= limit:
                break
            p.unlink(missing_ok=True)
            total -= s
            for mark in where.glob(".warmed-*"):  # a notebook's runs may be gone: warm it again
                _remove(mark)


def clear() -> int:
    """Remove every kept run; returns how many files were removed."""
    where = folder()
    if where is None or not where.is_dir():
        return 0
    n = 0
    # (and the markers saying a notebook's runs are all kept: mfteach.cli_warm)
    for p in [*where.glob("*.pt"), *where.glob(".*.tmp"), *where.glob(".warmed-*")]:
        _remove(p)
        n += p.suffix == ".pt"
    return n


_code_digest()  # now, with the code this process runs (see _code_digest)
