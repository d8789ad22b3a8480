"""Real-browser fixtures: Debian's Chromium driven by Playwright, JupyterLab and Voilà servers.

Skips when Chromium or Playwright is missing on a developer's machine, but FAILS when the
environment variable CI is set, so a missing install can never look green. Servers run in their
own process group on 127.0.0.1 with a random port and token, in private config/data/runtime
folders, and are always stopped. Screenshots go to artifacts/browser/ (kept for looking at).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MFTEACH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _missing(reason):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the 'playwright' Python package is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        args = ["--disable-dev-shm-usage", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync"]
        last = None
        for attempt in range(2):  # one retry at most for the launch itself
            try:
                b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
                break
            except Exception as e:  # noqa: BLE001 - report the launch failure below
                last = e
        else:
            pytest.fail(f"Chromium did not start twice: {last}")
        yield b
        b.close()


class Server:
    """A server process in its own process group, stopped by that group."""

    def __init__(self, cmd, cwd, env, url, log):
        self.url, self.log_path = url, log
        self.log = open(log, "w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, probe_url, timeout=120):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: "
                                   f"{Path(self.log_path).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(probe_url, timeout=5) as r:
                    if r.status == 200:
                        return time.time() - t0
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise RuntimeError(f"server not answering after {timeout} s: "
                           f"{Path(self.log_path).read_text()[-2000:]}")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def private_env(tmp: Path) -> dict:
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        d = tmp / name.lower()
        d.mkdir(parents=True, exist_ok=True)
        env[name] = str(d)
    # Kernels find the installed kernelspec through the environment's own prefix.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """Temporary copies of the notebooks (opening one marks it changed; never touch the real ones)."""
    d = tmp_path_factory.mktemp("nbs")
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, d / name)
        nb = json.loads((d / name).read_text())
        nb.setdefault("metadata", {})["mfteach_browser_test"] = True
        (d / name).write_text(json.dumps(nb))
    return d


def start_lab(workdir, tmp, env=None) -> Server:
    """JupyterLab on ``workdir``, on 127.0.0.1 with a random token and private settings (no news,
    no autosave, no windowing: every cell in the DOM), started and answering; ``env``: the
    server's environment (default ``private_env(tmp)``). Also used by benchmarks/bench_browser.py."""
    env = private_env(tmp) if env is None else env
    settings = tmp / "user-settings"
    for rel, body in {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(body))
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", f"--ServerApp.root_dir={workdir}"]
    srv = Server(cmd, workdir, env, f"http://127.0.0.1:{port}", tmp / "lab.log")
    try:
        srv.start_seconds = srv.wait(f"http://127.0.0.1:{port}/api/status?token={token}")
    except BaseException:
        srv.stop()
        raise
    srv.token = token
    return srv


@pytest.fixture(scope="session")
def lab(workdir, tmp_path_factory):
    srv = start_lab(workdir, tmp_path_factory.mktemp("lab"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def voila_server(workdir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voila")
    env = private_env(tmp)
    # the same protection as the JupyterLab server: loopback only, a random token, and Voilà's
    # default static-file allowlist (images only)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           f"--Voila.token={token}", str(workdir)]
    srv = Server(cmd, workdir, env, f"http://127.0.0.1:{port}", tmp / "voila.log")
    srv.token = token
    try:
        srv.start_seconds = srv.wait(f"http://127.0.0.1:{port}/?token={token}")
        yield srv
    finally:
        srv.stop()
