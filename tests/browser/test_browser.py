"""Every notebook, in a real browser: JupyterLab (run all) and Voilà (as a classroom app).

For each: no error output, no "Error displaying widget", every live panel rendered; one control
of each panel moved with the keyboard (or a click) as a person would, and the panel's image and
status text must change within a time limit. Screenshots before/after go to artifacts/browser/.
Waits are on states, never on sleeps.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, NOTEBOOKS, ROOT

pytestmark = pytest.mark.browser

# The control moved in each panel, by its label (a slider gets ArrowRight; a checkbox a click).
MOVE = {"init_panel": "embedding dim", "init_std_panel": "embedding dim",
        "reg_panel": "strength λ", "skew_panel": "item popularity skew (Zipf)",
        "capstone_panel": "fault: biases"}
CHANGE_LIMIT_MS = 30_000  # generous: a loaded 2-core machine; typical is well under 1 s
TIMINGS: dict = {}


def panels_in(name: str) -> list[str]:
    """The panel factories a notebook displays, in order."""
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    found = []
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            found += re.findall(r"lesson\.(\w+_panel)\(", "".join(c["source"]))
    return found


def record(key, value):
    TIMINGS[key] = round(value, 3)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1))


def page_problems(page) -> list[str]:
    text = page.inner_text("body")
    bad = [s for s in ("Error displaying widget", "Model not found", "model not found",
                       "Traceback (most recent call last)", "There was an error when executing")
           if s in text]
    errors = page.locator('[data-mime-type="application/vnd.jupyter.error"]').count()
    if errors:
        bad.append(f"{errors} error output(s)")
    return bad


def move_and_check(page, panel, factory, shot_prefix):
    """Move the panel's control; wait until its image and status change. Returns milliseconds."""
    label = MOVE[factory]
    img = panel.locator("img").first
    status = panel.locator(".mfteach-status")  # the status line (the panel has other HTML widgets)
    img.scroll_into_view_if_needed()
    panel.screenshot(path=str(ARTIFACTS / f"{shot_prefix}-before.png"))
    src_before = img.get_attribute("src")
    text_before = status.inner_text()
    slider = panel.locator(".widget-hslider", has_text=label)
    t0 = time.perf_counter()
    if slider.count():
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
    else:
        panel.locator(".widget-checkbox", has_text=label).locator("input").click()
    page.wait_for_function(
        "([img, before]) => img.src !== before && img.complete && img.naturalWidth > 0",
        arg=[img.element_handle(), src_before], timeout=CHANGE_LIMIT_MS)
    # the status first says "⏳ retraining …", then what was trained: wait for the latter
    page.wait_for_function("([el, before]) => el.innerText !== before && !el.innerText.includes('⏳')",
                           arg=[status.element_handle(), text_before], timeout=CHANGE_LIMIT_MS)
    ms = (time.perf_counter() - t0) * 1000
    panel.screenshot(path=str(ARTIFACTS / f"{shot_prefix}-after.png"))
    assert "⚠" not in status.inner_text() or "diverged" in status.inner_text(), status.inner_text()
    return ms


KERNEL_IDLE = "() => /\\|\\s*Idle\\b/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')"
STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))"""


def lab_menu(page, menu, command):
    """Open a JupyterLab menu and click one of its items, as a person would."""
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(f'li.lm-Menu-item[data-command="{command}"]').click()


def keep_evidence(page, server, stem):
    prompts = page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt",
                                        "els => els.map(e => e.textContent)")
    status = page.locator("#jp-main-statusbar").inner_text() if page.locator("#jp-main-statusbar").count() else ""
    (ARTIFACTS / f"{stem}.txt").write_text(
        f"prompts: {prompts}\nstatus bar: {status!r}\n\nserver log:\n"
        f"{Path(server.log_path).read_text()[-5000:]}")
    page.screenshot(path=str(ARTIFACTS / f"{stem}.png"))


def wait_panels_rendered(page, n, timeout):
    page.wait_for_function(
        """(n) => { const imgs = [...document.querySelectorAll('.mfteach-panel img')];
                   return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }""",
        arg=n, timeout=timeout)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_jupyterlab(browser, lab, name):
    record("lab server start s", lab.start_seconds)
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    try:
        t0 = time.perf_counter()
        page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        record(f"{name} lab page load s", time.perf_counter() - t0)
        # Not the toolbar's execution indicator: JupyterLab starts it at "idle" the moment the
        # notebook opens, before any kernel exists. The status bar reads "… | Idle" only once
        # the session's kernel is connected and idle.
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        record(f"{name} lab kernel ready s", time.perf_counter() - t0)
        n_code = page.locator(".jp-CodeCell").count()
        t1 = time.perf_counter()
        for attempt in range(2):
            lab_menu(page, "Run", "runmenu:run-all")
            try:  # the first cell shows [*] as soon as its request is sent
                page.wait_for_function(STARTED, timeout=30_000)
                break
            except Exception:
                # Run All while the session has no kernel: JupyterLab clears every cell and
                # runs none, silently (its hasNoKernel branch). Seen here once in ~10 runs when
                # the wait above was on the toolbar indicator. Keep the evidence, ask again.
                keep_evidence(page, lab, f"lab-{name[:2]}-NOT-STARTED")
                if attempt:
                    raise
                record(f"{name} lab run-all reissued", 1)
        done = """(n) => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                              .map(e => e.textContent);
                            return p.length === n && p.every(t => /\\[\\d+\\]/.test(t)); }"""
        limit = int(os.environ.get("MFTEACH_RUNALL_MS", 180_000))
        try:  # done when every code cell shows an execution count and none is pending
            page.wait_for_function(done, arg=n_code, timeout=limit)
        except Exception:
            # A cell stuck at [*] with the kernel not replying (like the Voilà hang of
            # ipykernel#1554, shared/BROWSER_TESTING.md): keep the evidence, then one rescue
            # with a fresh kernel.
            keep_evidence(page, lab, f"lab-{name[:2]}-HUNG")
            record(f"{name} lab kernel restarts", 1)
            lab_menu(page, "Kernel", "runmenu:restart-and-run-all")
            page.locator(".jp-Dialog .jp-mod-accept").click()
            page.wait_for_function(done, arg=n_code, timeout=limit)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)
        record(f"{name} lab run all s", time.perf_counter() - t1)
        factories = panels_in(name)
        wait_panels_rendered(page, len(factories), 60_000)
        assert page_problems(page) == []
        panels = page.locator(".mfteach-panel")
        assert panels.count() == len(factories)
        for k, factory in enumerate(factories):
            ms = move_and_check(page, panels.nth(k), factory, f"lab-{name[:2]}-{factory}")
            record(f"{name} lab {factory} control → new plot ms", ms)
        assert page_problems(page) == []
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"lab-{name[:2]}-FAILED.png"))
        (ARTIFACTS / f"lab-{name[:2]}-FAILED.txt").write_text(page.inner_text("body")[-20000:])
        raise
    finally:
        page.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_voila(browser, voila_server, name):
    record("voila server start s", voila_server.start_seconds)
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    factories = panels_in(name)
    try:
        t0 = time.perf_counter()
        for attempt in range(2):
            # Voilà sometimes never gets a reply from a fresh kernel (see BROWSER_TESTING.md,
            # ipykernel#1554): a first-render timeout and one reload (a new kernel) rescues it.
            page.goto(f"{voila_server.url}/voila/render/{name}?token={voila_server.token}",
                      timeout=180_000)
            try:
                wait_panels_rendered(page, len(factories), 240_000 if attempt else 150_000)
                # every notebook ends with the progress summary: with no panel to wait for
                # (notebook 05), wait until the whole notebook has rendered
                page.wait_for_function(
                    "() => /exercises passed|No exercise checked yet/.test(document.body.innerText)",
                    timeout=240_000 if attempt else 150_000)
                break
            except Exception:
                if attempt:
                    raise
                record(f"{name} voila reloads", 1)
        record(f"{name} voila first render s", time.perf_counter() - t0)
        assert page_problems(page) == []
        panels = page.locator(".mfteach-panel")
        assert panels.count() == len(factories)
        for k, factory in enumerate(factories):
            ms = move_and_check(page, panels.nth(k), factory, f"voila-{name[:2]}-{factory}")
            record(f"{name} voila {factory} control → new plot ms", ms)
        assert page_problems(page) == []
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"voila-{name[:2]}-FAILED.png"))
        (ARTIFACTS / f"voila-{name[:2]}-FAILED.txt").write_text(page.inner_text("body")[-20000:])
        raise
    finally:
        page.close()


def test_voila_refuses_requests_without_the_token(voila_server):
    """Voilà runs a kernel per visitor: like JupyterLab, it must not serve anyone without the
    token, nor hand out the notebook files themselves."""
    import http.client
    from urllib.parse import urlparse

    u = urlparse(voila_server.url)
    for path in ("/voila/render/01_initialization.ipynb",
                 f"/voila/files/01_initialization.ipynb?token={voila_server.token}"):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request("GET", path)
        r = conn.getresponse()
        assert r.status in (302, 403), (path, r.status)
        if r.status == 302:
            assert "/login" in r.getheader("Location", ""), (path, r.getheader("Location"))
        conn.close()
