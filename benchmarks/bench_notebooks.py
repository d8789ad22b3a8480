"""Run All, timed per cell: each notebook top to bottom in a fresh kernel (what JupyterLab's Run All costs).

    python benchmarks/bench_notebooks.py              # notebooks 01-05 built from notebooks/src
    python benchmarks/bench_notebooks.py 02 03 --top 8
    python benchmarks/bench_notebooks.py --ipynb      # the committed notebooks/*.ipynb instead
    python benchmarks/bench_notebooks.py --rounds 3   # median over 3 fresh kernels
    python benchmarks/bench_notebooks.py --cold-only  # skip the second (warm) Run All

Each notebook runs twice per round: **cold**, its kernel pointed at an empty run cache
(mfteach.runcache: what a student's first Run All costs), then **warm**, a new kernel with the runs
the first one kept (a second Run All, or every kernel after the first on a class server).

Each notebook is executed with nbclient (as tools/build_notebooks.py does, nothing is written back).
Per cell: wall time from the moment the cell is sent to the kernel until its reply and outputs are
in. Total = the sum over cells (Run All once the kernel is up); the kernel's start is reported
apart. Also measured in a fresh process: `import mfteach` and the first `torch.optim` constructor
(it imports torch._dynamo, ~1 s). Prints the slowest cells and writes
benchmarks/results/notebooks.json. A cell has `timeout` seconds at most (default 120), so a hang
cannot stall the run. The goal (issue 15) is ≤ 10 s per notebook on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks  # noqa: E402  (the same parser the build uses)

FIRST_OPTIM = (
    "import time; t0 = time.perf_counter(); import torch; t1 = time.perf_counter(); "
    "import mfteach; t2 = time.perf_counter(); "
    "torch.optim.Adam([torch.zeros(1, requires_grad=True)]); t3 = time.perf_counter(); "
    "torch.optim.Adam([torch.zeros(1, requires_grad=True)]); t4 = time.perf_counter(); "
    "print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)")


def load(name: str, ipynb: bool) -> nbformat.NotebookNode:
    if ipynb:
        return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    return build_notebooks.parse((ROOT / "notebooks" / "src" / f"{name}.py").read_text())


def first_line(cell) -> str:
    for line in cell.source.splitlines():
        if line.strip() and not line.startswith("# NBVAL"):
            return line.strip()[:70]
    return ""


def run_one(nb: nbformat.NotebookNode, timeout: int) -> dict:
    """Execute `nb` in a fresh kernel; seconds per code cell, kernel start apart."""
    sent: dict[int, tuple[float, float]] = {}
    cells: list[dict] = []
    kernel = {}

    def cpu() -> float:  # the kernel's CPU seconds: less sensitive to a busy machine than wall time
        t = kernel["proc"].cpu_times()
        return t.user + t.system

    def on_execute(cell, cell_index, **_):
        sent[cell_index] = (time.perf_counter(), cpu())

    def on_executed(cell, cell_index, **_):
        wall, used = sent[cell_index]
        cells.append({"index": cell_index, "seconds": time.perf_counter() - wall,
                      "cpu_seconds": cpu() - used, "source": first_line(cell)})

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}},
                            on_cell_execute=on_execute, on_cell_executed=on_executed)
    t = time.perf_counter()
    with client.setup_kernel():
        start = time.perf_counter() - t
        kernel["proc"] = psutil.Process(client.km.provisioner.process.pid)
        t0 = kernel["proc"].cpu_times()
        reaped0 = t0.children_user + t0.children_system
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        # Its second processes (mfteach.forked) end with their jobs: the CPU of those the kernel
        # reaped is in its children_* times, the live ones' in their own.
        t_end = kernel["proc"].cpu_times()
        child = t_end.children_user + t_end.children_system - reaped0 + \
            sum(sum(p.cpu_times()[:2]) for p in kernel["proc"].children(recursive=True))
        n = len(nb.cells)
        runs = where_runs_came_from(client, n)
        cells[:] = [c for c in cells if c["index"] < n]
    wall = time.perf_counter() - t
    return {"kernel_start_seconds": start, "cells": cells, "child_cpu_seconds": child, "runs": runs,
            "total_seconds": sum(c["seconds"] for c in cells),
            "total_cpu_seconds": sum(c["cpu_seconds"] for c in cells), "wall_seconds": wall}


def where_runs_came_from(client, index) -> dict:
    """How the notebook's ``trained`` runs were found (mfteach.lessons.common.STATS) and how many
    the second process trained (mfteach.forked): run in the kernel after the last cell."""
    cell = nbformat.v4.new_code_cell(
        "import json, mfteach.forked as _f, mfteach.lessons.common as _c\n"
        "import sys as _s\n"
        "print(json.dumps({**_c.STATS, 'second process': _f.STATS['runs'],\n"
        "                  'second process, all jobs': _f.STATS.get('calls'),\n"
        "                  **({'second process off': _f.STATS['off']} if 'off' in _f.STATS else {}),\n"
        "                  'scipy.stats imported': 'scipy.stats' in _s.modules}))")
    client.nb.cells.append(cell)
    try:
        client.execute_cell(cell, index)
        return json.loads(cell.outputs[0]["text"])
    except Exception as e:  # a notebook that never imported them, a changed output shape
        return {"error": repr(e)}


def first_optim() -> dict:
    out = subprocess.run([sys.executable, "-c", FIRST_OPTIM], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stdout.split()
    keys = ("import_torch", "import_mfteach", "first_optim", "second_optim")
    return dict(zip(keys, map(float, out)))


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pick", nargs="*", help="notebook numbers or name parts (default: all)")
    ap.add_argument("--ipynb", action="store_true", help="run the committed .ipynb files")
    ap.add_argument("--rounds", type=int, default=1, help="fresh kernels per notebook")
    ap.add_argument("--top", type=int, default=5, help="slowest cells shown per notebook")
    ap.add_argument("--timeout", type=int, default=120, help="seconds one cell may take")
    ap.add_argument("--cold-only", action="store_true", help="no second Run All on a kept cache")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "notebooks.json"))
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error(f"--rounds must be >= 1, got {args.rounds}")

    names = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("*.py"))
    if args.ipynb:
        names = [n for n in names if (ROOT / "notebooks" / f"{n}.ipynb").exists()]
    names = [n for n in names if not args.pick or any(k in n for k in args.pick)]
    if not names:
        sys.exit(f"no notebooks match {args.pick}")

    fresh = first_optim()
    print(f"fresh process: import torch {fresh['import_torch']:.2f} s, import mfteach "
          f"{fresh['import_mfteach']:.2f} s, first torch.optim.Adam {fresh['first_optim']:.2f} s "
          f"(second {fresh['second_optim'] * 1000:.1f} ms)   load {load_avg()}")

    results = {}
    for name in names:
        runs, warm = [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as cache:  # the kernels inherit this environment
                os.environ["MFTEACH_RUN_CACHE"] = cache
                runs.append(run_one(load(name, args.ipynb), args.timeout))
                if not args.cold_only:
                    warm.append(run_one(load(name, args.ipynb), args.timeout))
        os.environ.pop("MFTEACH_RUN_CACHE", None)
        med = lambda rs: sorted(rs, key=lambda r: r["total_seconds"])[len(rs) // 2]  # noqa: E731
        best = med(runs)
        results[name] = {"total_seconds": [r["total_seconds"] for r in runs],
                         "median_total_seconds": best["total_seconds"],
                         "kernel_start_seconds": best["kernel_start_seconds"],
                         "total_cpu_seconds": best["total_cpu_seconds"],
                         "child_cpu_seconds": best["child_cpu_seconds"], "runs": best["runs"],
                         "cells": best["cells"], "load": load_avg()}
        if warm:
            w = med(warm)
            results[name]["warm"] = {"total_seconds": [r["total_seconds"] for r in warm],
                                     "median_total_seconds": w["total_seconds"],
                                     "total_cpu_seconds": w["total_cpu_seconds"],
                                     "child_cpu_seconds": w["child_cpu_seconds"], "runs": w["runs"],
                                     "cells": w["cells"]}
        for label, r in (("cold", best), ("warm", med(warm) if warm else None)):
            if r is None:
                continue
            print(f"\n{name} ({label} run cache): Run All {r['total_seconds']:.1f} s, kernel CPU "
                  f"{r['total_cpu_seconds']:.1f} s + its second process {r['child_cpu_seconds']:.1f} s "
                  f"(kernel start {r['kernel_start_seconds']:.1f} s)   load {load_avg()}")
            print(f"  runs: {r['runs']}")
            for c in sorted(r["cells"], key=lambda c: -c["seconds"])[:args.top]:
                print(f"  cell {c['index']:3d} {c['seconds']:6.2f} s (cpu {c['cpu_seconds']:5.2f})  "
                      f"{c['source']}")

    print(f"\n{'notebook':28s} {'cold s':>7s} {'CPU s':>6s} {'warm s':>7s} {'CPU s':>6s}  goal ≤ 10 s")
    for name, r in results.items():
        w = r.get("warm", {})
        ws, wc = w.get("median_total_seconds", float("nan")), w.get("total_cpu_seconds", float("nan"))
        mark = ("ok" if r["median_total_seconds"] <= 10 else "cold over") + \
            ("" if not w else ", warm ok" if ws <= 10 else ", warm over")
        print(f"{name:28s} {r['median_total_seconds']:7.1f} {r['total_cpu_seconds']:6.1f} "
              f"{ws:7.1f} {wc:6.1f}  {mark}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(out.read_text()).get("notebooks", {}) if out.exists() else {}
    old.update(results)  # a partial run (`02`) keeps the other notebooks' last numbers
    meta = {"python": platform.python_version(), "cpu_count": os.cpu_count(),
            "source": "ipynb" if args.ipynb else "notebooks/src", "rounds": args.rounds,
            "run_cache": "cold (empty), then warm (the runs the cold kernel kept)"
            if not args.cold_only else "cold (empty)",
            "fresh_process": fresh, "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    out.write_text(json.dumps({"meta": meta, "notebooks": old}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
