"""Panel latency in a real browser: key press → new plot on screen, and → last change (a sweep done).

    python benchmarks/bench_browser.py [--moves 5] [--notebooks 01 02] [--budget 480] [--no-voila|--no-lab]
                                       [--think 1] [--read 10]

JupyterLab (served on 127.0.0.1 with a token, private settings, the project's Playwright set-up in
tests/browser/) opens a temporary copy of each notebook, runs it all, then moves every control of
every panel as a student would (slider: an arrow key; dropdown: the next option; checkbox: a
click). In the page, a capture listener stamps the key press and every `load` of a panel's
<img> (`performance.now()`, no round trip through Playwright): "new plot" is the first image
loaded after the press, "last change" the last one once the status says the work is done (no ⏳,
no "sweep: run k/n"), "own plot" the move's own run (later than "new plot" when a long run shows a
first look: a shorter run drawn while it trains, ui/preview.py). Moves answered from the cache are
counted, and marked.

Voilà: for each notebook, the classroom command (`mfteach voila NN`: `voila` with
`mfteach.cli.voila_args()`, i.e. preheated kernels), started and left until its pool is filled
(its log says so) and its kernel has used < 5% of a core for 2 s (it has run the notebook), on an
empty run cache (mfteach.runcache: the first class on this machine); then a first student's
page, navigation → every panel drawn, and their first move's new plot (the panel is live); then
a second student arriving right after (a kernel of the refilling pool). JupyterLab's kernels also
start from an empty run cache, so every move is a real retrain. Prints tables; writes benchmarks/results/browser.json. Bounded by
--budget seconds; every server is stopped by its process group, also on failure or Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from browser.conftest import CHROMIUM, Server, free_port, private_env  # noqa: E402
from browser.conftest import start_lab as browser_lab  # noqa: E402
from mfteach.cli import voila_args  # noqa: E402

KERNEL_IDLE = "() => /\\|\\s*Idle\\b/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')"
ALL_RUN = """(n) => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                        .map(e => e.textContent);
                      return p.length === n && p.every(t => /\\[\\d+\\]/.test(t)); }"""
PANELS_DRAWN = """(n) => { const imgs = [...document.querySelectorAll('.mfteach-panel img')];
                   return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }"""
# Stamps in the page: the key press, every panel image's src change and load.
LISTEN = """() => { if (window.__mf) return; window.__mf = {t0: null, loads: [], srcs: 0};
  document.addEventListener('keydown', () => { window.__mf = {t0: performance.now(), loads: [], srcs: 0}; }, true);
  document.addEventListener('load', e => { const t = e.target;
    if (t.tagName === 'IMG' && t.closest('.mfteach-panel')) { window.__mf.loads.push(performance.now());
      const st = t.closest('.mfteach-panel').querySelector('.mfteach-status');
      if (st && st.innerText.includes('⏳ showing')) window.__mf.looks = (window.__mf.looks || 0) + 1; } }, true);
  new MutationObserver(ms => { for (const m of ms) if (m.target.tagName === 'IMG') window.__mf.srcs++; })
    .observe(document.body, {subtree: true, attributes: true, attributeFilter: ['src']}); }"""
# Done: the panel's status is final and every new src has loaded.
DONE = """(st) => { const s = st.innerText; const m = window.__mf;
  return m.loads.length > 0 && m.loads.length >= m.srcs && !s.includes('⏳') && !s.includes('sweep: run'); }"""


def stats(xs):
    xs = sorted(xs)
    if not xs:
        return None
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return {"median": round(statistics.median(xs), 3), "p90": round(p90, 3),
            "max": round(xs[-1], 3), "n": len(xs)}


def load():
    return os.getloadavg()[0]


def start_lab(workdir: Path, tmp: Path) -> Server:
    env = private_env(tmp)
    env["MFTEACH_RUN_CACHE"] = str(tmp / "runs")  # empty: a move is a real retrain
    return browser_lab(workdir, tmp, env)   # the browser tests' JupyterLab set-up


def controls_of(panel):
    """(kind, label, locator of the element that takes the key) for each enabled control."""
    out = []
    for kind, box_sel, key_sel in (("slider", ".widget-slider", ".noUi-handle"),
                                   ("dropdown", ".widget-dropdown", "select"),
                                   ("checkbox", ".widget-checkbox", "input")):
        boxes = panel.locator(box_sel)
        for k in range(boxes.count()):
            box = boxes.nth(k)
            out.append((kind, box.inner_text().strip().split("\n")[0], box.locator(key_sel).first))
    return out


def press(kind, el, step):
    """One move, by keyboard. Returns False when the control cannot move (disabled)."""
    if kind == "slider":
        if el.evaluate("e => e.closest('[disabled]') !== null"):
            return False
        now, top = (float(el.get_attribute(a) or 0) for a in ("aria-valuenow", "aria-valuemax"))
        el.focus()
        el.press("ArrowLeft" if now >= top else "ArrowRight")
    elif kind == "dropdown":  # the next option, chosen in the page (stamped first, as a key is)
        if el.is_disabled():
            return False
        el.evaluate("e => { window.__mf = {t0: performance.now(), loads: [], srcs: 0};"
                    " e.selectedIndex = (e.selectedIndex + 1) % e.options.length;"
                    " e.dispatchEvent(new Event('change', {bubbles: true})); }")
    else:  # a click, as a person would (stamped first)
        if el.is_disabled():
            return False
        el.evaluate("e => { window.__mf = {t0: performance.now(), loads: [], srcs: 0}; e.click(); }")
    return True


def move(page, panel, kind, el, step, timeout_ms=30_000):
    status = panel.locator(".mfteach-status")
    if not press(kind, el, step):
        return None
    try:
        page.wait_for_function(DONE, arg=status.element_handle(), timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - e.g. a control whose move leaves the picture as it was
        return {"no_new_image": True, "status": status.inner_text()[:200]}
    m = page.evaluate("() => window.__mf")
    text = status.inner_text()
    looks = min(m.get("looks", 0), len(m["loads"]) - 1)  # first looks shown before its own run
    out = {"new_plot": (m["loads"][0] - m["t0"]) / 1000, "last_change": (m["loads"][-1] - m["t0"]) / 1000,
           "own_plot": (m["loads"][looks] - m["t0"]) / 1000, "first_look": looks > 0,
           "images": len(m["loads"]), "cached": "from cache" in text}
    # the kernel's own times, as the status reports them: what is left of "new plot" is the
    # way there and back (messages, the front end, the PNG shown)
    k = re.search(r"computed in ([0-9.]+) s, drawn in ([0-9.]+) s", text)
    if k:
        out["kernel_compute"], out["kernel_draw"] = float(k[1]), float(k[2])
        out["round_trip"] = round(out["own_plot"] - out["kernel_compute"] - out["kernel_draw"], 4)
    return out


def bench_lab(browser, srv, name, moves, deadline, think=0.0, read=0.0):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    res = {"controls": {}}
    try:
        t0 = time.perf_counter()
        page.goto(f"{srv.url}/lab/tree/{name}?reset&token={srv.token}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        n_code = page.locator(".jp-CodeCell").count()
        res["stage"] = "run all"
        t1 = time.perf_counter()
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()
        page.wait_for_function(ALL_RUN, arg=n_code, timeout=240_000)
        res["run_all_s"] = round(time.perf_counter() - t1, 2)
        panels = page.locator(".mfteach-panel")
        page.wait_for_function(PANELS_DRAWN, arg=panels.count(), timeout=60_000)
        res["open_s"] = round(t1 - t0, 2)
        res["stage"] = "moving controls"
        time.sleep(read)  # a student reading the notebook before the first move
        page.evaluate(LISTEN)
        for k in range(panels.count()):
            panel = panels.nth(k)
            panel.scroll_into_view_if_needed()
            for kind, label, el in controls_of(panel):
                key = f"panel {k + 1}: {label}"
                rows = []
                for step in range(moves):
                    if time.time() > deadline:
                        break
                    res["stage"] = f"{key}, move {step + 1}"
                    if think and (step or res["controls"]):
                        time.sleep(think)  # a student looks at the plot before the next move
                        # (also before the first move of the next control: until 2026-11-28 it
                        # came at once, with no time to look or to compute ahead)
                    r = move(page, panel, kind, el, step)
                    if r is None or r.get("no_new_image"):
                        res.setdefault("no_new_image", {})[key] = r
                        break
                    rows.append(r)
                fresh = [r for r in rows if not r["cached"]]
                res["controls"][key] = {
                    "kind": kind, "moves": rows,
                    "new_plot": stats([r["new_plot"] for r in fresh]),
                    "last_change": stats([r["last_change"] for r in fresh]),
                    "own_plot": stats([r["own_plot"] for r in fresh]),
                    "first_looks": sum(r.get("first_look", False) for r in fresh),
                    "new_plot_cached": stats([r["new_plot"] for r in rows if r["cached"]]),
                    "kernel_compute": stats([r["kernel_compute"] for r in fresh if "kernel_compute" in r]),
                    "kernel_draw": stats([r["kernel_draw"] for r in fresh if "kernel_draw" in r]),
                    "round_trip": stats([r["round_trip"] for r in fresh if "round_trip" in r])}
                c = res["controls"][key]
                if c["new_plot"]:
                    print(f"  {name[:2]} {key:52s} new plot {c['new_plot']['median']:5.2f} s "
                          f"(p90 {c['new_plot']['p90']:.2f}, max {c['new_plot']['max']:.2f}); last "
                          f"change ≤ {c['last_change']['max']:.2f} s; {len(fresh)} retrains"
                          + (f" ({c['first_looks']} with a first look: own run drawn at median "
                             f"{c['own_plot']['median']:.2f} s)" if c["first_looks"] else "") + ", "
                          f"{len(rows) - len(fresh)} cached; kernel: compute "
                          f"{(c['kernel_compute'] or {}).get('median', float('nan')):.2f} s + draw "
                          f"{(c['kernel_draw'] or {}).get('median', float('nan')):.2f} s, round trip "
                          f"{(c['round_trip'] or {}).get('median', float('nan')):.2f} s; "
                          f"load {load():.2f}", flush=True)
    except Exception as e:  # noqa: BLE001 - keep what was measured, say what failed
        res["error"] = f"{type(e).__name__} while {res.get('stage')}: {str(e)[:300]}"
        print(f"  {name}: {res['error']}", flush=True)
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"bench-browser-{name[:2]}-failed.png"))
    finally:
        page.close()
    return res


def kernels_quiet(srv, quiet_s=2.0, timeout=240.0, cpu_share=0.05) -> float:
    """Wait until every kernel the server started has used < ``cpu_share`` of a core for
    ``quiet_s`` seconds (a preheated kernel has finished running its notebook); seconds waited."""
    import psutil

    t0 = time.perf_counter()
    root = psutil.Process(srv.proc.pid)
    last, since = None, None
    while time.perf_counter() - t0 < timeout:
        try:
            kids = [k for k in root.children(recursive=True) if "ipykernel" in " ".join(k.cmdline())]
            used = sum(sum(k.cpu_times()[:2]) for k in kids)
        except psutil.Error:  # a process went away meanwhile: look again
            kids, used = [], None
        now = time.perf_counter()
        if kids and used is not None and last is not None and used - last[0] < cpu_share * (now - last[1]):
            since = since or last[1]
            if now - since >= quiet_s:
                return now - t0
        else:
            since = None
        last = (used, now) if used is not None else None
        time.sleep(0.25)
    raise RuntimeError(f"the kernels were still busy after {timeout:.0f} s")


def open_page(browser, srv, token, n):
    """A student's page: navigation → every panel drawn; (page, seconds)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    t1 = time.perf_counter()
    page.goto(f"{srv.url}/?token={token}", timeout=120_000)
    page.wait_for_function(PANELS_DRAWN, arg=max(n, 1), timeout=120_000)
    return page, round(time.perf_counter() - t1, 2)


def bench_voila(browser, workdir, tmp, name, timeout=240):
    """`mfteach voila NN`'s server (preheated), on an empty run cache (the first class on this
    machine): left to fill its pool and run the notebook; then a first student's page
    (navigation → panels), their first move, and a second student arriving right after."""
    env = private_env(tmp / f"voila-{name[:2]}")
    env["MFTEACH_RUN_CACHE"] = str(tmp / f"runs-voila-{name[:2]}")  # empty: nothing kept yet
    port, token = free_port(), secrets.token_hex(16)
    log = tmp / f"voila-{name[:2]}.log"
    cmd = [sys.executable, "-m", "voila", *voila_args(1), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", f"--Voila.token={token}", str(workdir / name)]
    srv = Server(cmd, workdir, env, f"http://127.0.0.1:{port}", log)
    res = {"flags": voila_args(1), "run_cache": "empty at start"}
    pages = []
    try:
        t0 = time.perf_counter()
        while "is filled with" not in log.read_text():  # the preheated kernel is started
            if srv.proc.poll() is not None or time.perf_counter() - t0 > timeout:
                raise RuntimeError("the kernel pool never filled: " + log.read_text()[-800:])
            time.sleep(0.25)
        res["pool_filled_s"] = round(time.perf_counter() - t0, 2)
        kernels_quiet(srv, timeout=timeout)  # ... and has run the notebook
        res["preheat_s"] = round(time.perf_counter() - t0, 2)
        n = sum(1 for c in json.loads((workdir / name).read_text())["cells"]
                if c["cell_type"] == "code" and "_panel(" in "".join(c["source"]))
        page, res["ready_s"] = open_page(browser, srv, token, n)
        pages.append(page)
        page.evaluate(LISTEN)
        panel = page.locator(".mfteach-panel").first
        panel.scroll_into_view_if_needed()
        r, label = None, None
        for kind, label, el in controls_of(panel):  # the first control that can move
            r = move(page, panel, kind, el, 0)
            if r is not None:
                break
        res["first_move"] = {"control": label, **(r or {})}
        # A second student right after: the pool is being refilled (its kernel runs the notebook,
        # now with the runs the first kernel kept on disk).
        page2, res["second_ready_s"] = open_page(browser, srv, token, n)
        pages.append(page2)
        print(f"  voila {name[:2]}: pool filled {res['pool_filled_s']:.1f} s, notebook run "
              f"{res['preheat_s']:.1f} s; first student: page → panels {res['ready_s']:.2f} s, "
              f"first move ({label}) → new plot {(r or {}).get('new_plot', float('nan')):.2f} s; "
              f"second student right after: {res['second_ready_s']:.2f} s; load {load():.2f}",
              flush=True)
    except Exception as e:  # noqa: BLE001
        res["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        print(f"  voila {name}: {res['error']}", flush=True)
    finally:
        for page in pages:
            page.close()
        srv.stop()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=5, help="moves per control")
    ap.add_argument("--notebooks", nargs="*", default=["01", "02", "03", "04"])
    ap.add_argument("--budget", type=float, default=480, help="seconds for the lab part")
    ap.add_argument("--no-voila", action="store_true")
    ap.add_argument("--no-lab", action="store_true", help="only the Voilà part")
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds between moves (a student looking at the plot): the panel "
                         "computes the next step ahead meanwhile")
    ap.add_argument("--read", type=float, default=0.0,
                    help="seconds after Run All before the first move (a student reading): a "
                         "panel computes one step of each control ahead meanwhile")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "browser.json"))
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    # SIGTERM (a timeout, the lead's Ctrl-C in another shell) must still stop the servers.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    names = [p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if p.name[:2] in args.notebooks]
    out = {"when": time.strftime("%F %T"), "cpu_count": os.cpu_count(), "think_s": args.think,
           "read_s": args.read,
           "load_before": os.getloadavg(), "lab": {}, "voila": {}}
    tmp = Path(tempfile.mkdtemp(prefix="mfteach-bench-browser-"))
    workdir = tmp / "nbs"
    workdir.mkdir()
    for name in names:  # opening a notebook marks it changed: never touch the real ones
        shutil.copy(ROOT / "notebooks" / name, workdir / name)
    srv = None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--disable-dev-shm-usage", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            try:
                if not args.no_lab:
                    srv = start_lab(workdir, tmp / "lab")
                    deadline = time.time() + args.budget
                    for name in names:
                        print(f"JupyterLab {name}", flush=True)
                        out["lab"][name] = bench_lab(browser, srv, name, args.moves, deadline,
                                                     args.think, args.read)
                    srv.stop()
                    srv = None
                if not args.no_voila:
                    for name in names:
                        out["voila"][name] = bench_voila(browser, workdir, tmp, name)
            finally:
                browser.close()
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    every = [r for nb in out["lab"].values() for c in nb["controls"].values()
             for r in c["moves"] if not r["cached"]]
    out["summary"] = {"new_plot": stats([r["new_plot"] for r in every]),
                      "last_change": stats([r["last_change"] for r in every]),
                      # the move's own run on screen (later than new_plot after a first look)
                      "own_plot": stats([r.get("own_plot", r["new_plot"]) for r in every]),
                      "first_looks": sum(r.get("first_look", False) for r in every),
                      "per_control_medians": stats([c["new_plot"]["median"] for nb in out["lab"].values()
                                                    for c in nb["controls"].values() if c["new_plot"]]),
                      **{k: stats([r[k] for r in every if k in r])
                         for k in ("kernel_compute", "kernel_draw", "round_trip")},
                      # every move as a student feels it: also those answered from the cache
                      # (settings seen before, or computed ahead while the student looked)
                      "all_moves_new_plot": stats([r["new_plot"] for nb in out["lab"].values()
                                                   for c in nb["controls"].values()
                                                   for r in c["moves"]])}
    out["load_after"] = os.getloadavg()
    print(f"all controls, every move: new plot {out['summary']['all_moves_new_plot']}")
    print(f"retraining moves, their own run drawn: {out['summary']['own_plot']} "
          f"({out['summary']['first_looks']} after a first look)")
    print(f"all controls, retraining moves: new plot {out['summary']['new_plot']}; "
          f"last change {out['summary']['last_change']}; load before {out['load_before'][0]:.2f}, "
          f"after {out['load_after'][0]:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.no_lab and Path(args.out).exists():  # a Voilà-only run keeps the last lab numbers
        old = json.loads(Path(args.out).read_text())
        out = {**old, "voila": {**old.get("voila", {}), **out["voila"]},
               "voila_when": out["when"], "voila_load": [out["load_before"], out["load_after"]]}
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
