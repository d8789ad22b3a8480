"""Reading a big rating file: mf.read_ratings vs pandas' own read_csv, time and peak memory.

    python benchmarks/bench_reader.py                  # 5M rows, 3 rounds
    python benchmarks/bench_reader.py --rows 1000000 --rounds 5
    git show fd80047:mfteach/files.py > /tmp/old_files.py   # the reader before this benchmark
    python benchmarks/bench_reader.py --impl /tmp/old_files.py --label "before"  # time it too

Not a test: it prints a table and writes benchmarks/results/reader.json. Methods: pandas' own
``read_csv`` of the file; ``mf.read_ratings`` (pandas' C parser, then exact checks); its exact
record-by-record reader alone (what a file pandas cannot read exactly costs, e.g. one with ids
written "7.0"; ``--no-exact`` skips it); optionally read_ratings from another files.py. The file
(generated in a temporary folder, deleted afterwards) looks like MovieLens 25M's ratings.csv: a
header, then ``userId,movieId,rating,timestamp`` with 162k users, 59k items (ids up to ~210k),
half-star ratings and 10-digit timestamps, every (user, item) pair once; it is timed twice, with
its rows shuffled (all methods) and sorted by user, then item, as MovieLens 25M ships (pandas
and read_ratings only).

Every measurement runs in a fresh Python process, so the peak memory (``ru_maxrss``) is that one
read's: "peak" is the whole process (imports included), "added" is the peak minus the process
size just before the read; "cpu" is user + system time of all its threads (pandas may parse with
several), steadier than wall time on a busy machine. Methods run in alternation (round 1: A, B; round 2: A, B; ...) so a
busy machine slows them alike; the table shows medians.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_file(path, rows, seed=0, order="shuffled"):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_users, n_items = 162_541, 59_047
    keys = np.unique(rng.integers(0, n_users * n_items, int(rows * 1.05) + 1000))
    keys = rng.permutation(keys)[:rows]
    if order == "sorted":  # by user, then item, like MovieLens 25M's ratings.csv
        keys = np.sort(keys)
    item_ids = np.sort(rng.choice(209_171, n_items, replace=False)) + 1
    df = pd.DataFrame({"userId": keys // n_items + 1, "movieId": item_ids[keys % n_items],
                       "rating": rng.integers(1, 11, rows) / 2,
                       "timestamp": rng.integers(789_652_009, 1_574_327_703, rows)})
    df.to_csv(path, index=False)


def child(method, path, impl):
    """Runs in its own process: one read, prints time and memory as JSON."""
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401  (imports happen before the baseline is taken)
    import pandas as pd

    import mfteach as mf

    read = mf.read_ratings
    if method == "exact":
        mf.files._SLOW_ONLY = True
    if method == "other":
        import importlib.util

        spec = importlib.util.spec_from_file_location("mfteach._bench_impl", impl)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        read = mod.read_ratings
    usage = resource.getrusage(resource.RUSAGE_SELF)
    before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t = time.perf_counter()
    if method == "pandas":
        out = pd.read_csv(path)
        n = len(out)
    else:
        out = read(path, columns=("userId", "movieId", "rating"))
        n = len(out)
    seconds = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak / 1024,
                      "added_mb": (peak - before) / 1024,
                      "rows": n}))


def run_child(method, path, impl):
    cmd = [sys.executable, __file__, "--child", method, str(path)]
    if impl:
        cmd += ["--impl", impl]  # used by the "other" method only
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{method} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def summarize(results):
    """Medians per method and their ratios to pandas (the first method); prints a table."""
    summary = {}
    print(f"\n{'method':<48} {'median s':>9} {'cpu s':>7} {'peak MB':>8} {'added MB':>9}")
    for name, rs in results.items():
        s = {key: statistics.median(r[field] for r in rs) for key, field in (
            ("median_seconds", "seconds"), ("median_cpu_seconds", "cpu_seconds"),
            ("median_peak_mb", "peak_mb"), ("median_added_mb", "added_mb"))}
        summary[name] = {**s, "runs": rs}
        print(f"{name:<48} {s['median_seconds']:>9.2f} {s['median_cpu_seconds']:>7.2f} "
              f"{s['median_peak_mb']:>8.0f} {s['median_added_mb']:>9.0f}")
    names = list(results)
    base = summary[names[0]]
    ratios = {}
    for name in names[1:]:
        s = summary[name]
        ratios[name] = {what: s[f"median_{what}"] / base[f"median_{what}"]
                        for what in ("seconds", "cpu_seconds", "peak_mb", "added_mb")}
        print(f"{name} / pandas: time ×{ratios[name]['seconds']:.2f} (cpu "
              f"×{ratios[name]['cpu_seconds']:.2f}), peak memory ×{ratios[name]['peak_mb']:.2f}, "
              f"added memory ×{ratios[name]['added_mb']:.2f}")
    return summary, ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--impl", default=None, help="read_ratings from this files.py instead")
    ap.add_argument("--label", default="other files.py", help="the --impl method's name")
    ap.add_argument("--no-exact", action="store_true", help="skip the exact reader alone")
    ap.add_argument("--orders", default="shuffled,sorted",
                    help="files to time: rows shuffled, and/or sorted by user then item")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "reader.json"))
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child, args.impl)

    all_results, all_ratios, sizes = {}, {}, {}
    with tempfile.TemporaryDirectory() as d:
        for order in args.orders.split(","):
            path = Path(d) / f"ratings_{order}.csv"
            t = time.perf_counter()
            make_file(path, args.rows, order=order)
            sizes[order] = size = path.stat().st_size
            print(f"\n{order} file: {args.rows:,} rows, {size / 2**20:.0f} MiB, "
                  f"written in {time.perf_counter() - t:.1f} s")
            methods = {"pandas.read_csv (all columns, inferred types)": "pandas",
                       "mfteach.read_ratings": "ours"}
            if order == args.orders.split(",")[0]:  # the slow ones on the first file only
                if not args.no_exact:
                    methods["read_ratings, exact reader alone (fallback)"] = "exact"
                if args.impl:
                    methods[args.label] = "other"
            results = {name: [] for name in methods}
            for rnd in range(args.rounds):
                for name, m in methods.items():
                    r = run_child(m, path, args.impl)
                    results[name].append(r)
                    print(f"  round {rnd + 1}: {name}: {r['seconds']:.2f} s "
                          f"(cpu {r['cpu_seconds']:.2f} s), peak {r['peak_mb']:.0f} MB")
            path.unlink()
            all_results[order], all_ratios[order] = summarize(results)

    import numpy
    import pandas

    meta = {"python": platform.python_version(), "pandas": pandas.__version__,
            "numpy": numpy.__version__, "cpu_count": os.cpu_count(), "rows": args.rows,
            "file_mib": {o: round(v / 2**20, 1) for o, v in sizes.items()},
            "rounds": args.rounds, "impl": args.impl, "label": args.label,
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": all_results, "ratios": all_ratios},
                              indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
