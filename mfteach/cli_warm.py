"""``mfteach warm`` and the background warm of ``mfteach lab``: run notebooks once, headless, so
every run they train is kept on disk (mfteach.runcache). The app layer, split from cli.py."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["warm", "warm_behind", "stop", "run_notebooks"]


def _source() -> Path:
    from .cli import notebooks_source

    return notebooks_source()


def _one(folder: Path, pick: str):
    from .cli import _one_notebook

    return _one_notebook(folder, pick)


def warm(args) -> int:
    """Run notebooks once, headless, so that every run they train is kept on disk
    (mfteach.runcache): later kernels (Run All, Voilà's, a whole class's) read them back."""
    folder = _source()
    nbs = []
    for pick in args.notebooks or [""]:
        found = sorted(folder.glob(f"{pick}*.ipynb")) if pick else \
            sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        if not found:
            _one(folder, pick)  # says which notebooks there are
            return 1
        nbs += [p for p in found if p not in nbs]
    if not getattr(args, "background", False):
        return run_notebooks(nbs)
    _in_background()
    try:
        return run_notebooks(nbs)
    except Exception as e:  # noqa: BLE001 - stopped (lab ended) or failed: one line in the log
        print(f"mfteach warm: stopped ({type(e).__name__}: {e}); the runs kept so far stay kept",
              flush=True)
        return 1


def _in_background():
    """Low priority. A SIGTERM (``mfteach lab`` ending) is nbclient's to handle: it shuts the
    headless kernel down, and the notebook under way ends with an error (see ``warm``)."""
    if hasattr(os, "nice"):
        try:
            os.nice(10)
        except OSError:
            pass


def run_notebooks(nbs) -> int:
    import tempfile

    from . import runcache

    where = runcache.folder()
    if where is None:
        print(f"mfteach: the run cache is off (${runcache.ENV}={os.environ.get(runcache.ENV)}); "
              f"nothing to warm", file=sys.stderr)
        return 1
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        print("mfteach: warming needs nbclient (pip install 'mfteach[notebooks]')", file=sys.stderr)
        return 1
    saved = os.environ.get("MFTEACH_PROGRESS")
    with tempfile.TemporaryDirectory() as tmp:
        # the exercises' checks in this headless run must not count as the teacher's tries
        os.environ["MFTEACH_PROGRESS"] = str(Path(tmp) / "progress.json")
        try:
            for nb_path in nbs:
                print(f"warming {nb_path.stem}: running it once, headless …", flush=True)
                t = time.perf_counter()
                nb = nbformat.read(nb_path, as_version=4)
                try:
                    NotebookClient(nb, timeout=600, kernel_name="python3",
                                   resources={"metadata": {"path": str(nb_path.parent)}}).execute()
                except CellExecutionError as e:
                    print(f"mfteach: {nb_path.name} stopped with an error; its last lines:\n"
                          f"{str(e)[-1500:]}", file=sys.stderr)
                    return 1
                try:  # so that `mfteach lab` does not warm it again (see warm_behind)
                    (where / f".warmed-{nb_path.stem}-{_stamp()}").touch()
                except OSError:
                    pass
                print(f"  ran in {time.perf_counter() - t:.1f} s; runs kept in {where} "
                      f"({runcache.size() / 2 ** 20:.0f} MB)", flush=True)
        finally:
            if saved is None:
                os.environ.pop("MFTEACH_PROGRESS", None)
            else:
                os.environ["MFTEACH_PROGRESS"] = saved
    return 0


def warm_behind():
    """The first time on this machine (this code, torch, CPU): ``mfteach warm`` in a background
    process, at low priority, for the notebooks not warmed yet, so that by the time a student
    reaches a notebook its runs are kept (Run All reads them back). A kernel that needs a run
    first trains it itself: the numbers are the same either way."""
    from . import runcache

    where = runcache.folder()
    if where is None:
        return None
    todo = [nb for nb in sorted(_source().glob("[0-9][0-9]_*.ipynb"))
            if not _warmed(where, nb)]
    if not todo:
        return None
    # the first notebook last: a student who opens it at once runs it in their own kernel (and
    # keeps its runs) while this warms the ones they reach next
    todo = todo[1:] + todo[:1]
    other = _running(where)
    if other is not None:  # a second `mfteach lab` on this cache: one warm is enough
        print(f"mfteach: a background warm is already running (process {other}); its log: "
              f"{where / 'warm.log'}", flush=True)
        return None
    try:
        where.mkdir(parents=True, exist_ok=True)
        log = open(where / "warm.log", "w")  # noqa: SIM115 - the child writes to it
    except OSError:  # a class's read-only cache: nothing to fill
        return None
    print(f"mfteach: computing the runs of {', '.join(nb.stem[:2] for nb in todo)} in the "
          f"background, once on this machine (≈ 2 minutes for all five on 2 cores; log: {log.name}). "
          f"Meanwhile a notebook trains what it needs itself.", flush=True)
    with log:
        proc = subprocess.Popen([sys.executable, "-m", "mfteach", "warm", "--background",
                                 *[nb.stem[:2] for nb in todo]], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=os.name == "posix")
    try:
        (where / PID_FILE).write_text(str(proc.pid))
    except (OSError, AttributeError):
        pass
    return proc


PID_FILE = "warm.pid"


def _running(where: Path):
    """The process id of a background warm still running on this cache, or None."""
    if os.name != "posix":  # (Windows' os.kill(pid, 0) would end the process, not probe it)
        return None
    try:
        pid = int((where / PID_FILE).read_text())
        os.kill(pid, 0)
    except PermissionError:  # someone else's, alive
        return pid
    except (OSError, ValueError):  # no file, or the process is gone
        return None
    return pid


def stop(proc):
    """End a background warm that is still running (its kernel follows it: ipykernel exits
    when its parent does); what it kept so far stays kept."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _stamp() -> str:
    from . import runcache

    return runcache.stamp()[:16]


def _warmed(where: Path, nb: Path) -> bool:
    return (where / f".warmed-{nb.stem}-{_stamp()}").exists()
