"""Build the notebooks from their sources and run them top to bottom.

    python tools/build_notebooks.py            # all notebooks
    python tools/build_notebooks.py 01         # those whose name contains "01"

Sources live in notebooks/src/NN_name.py in jupytext's "percent" format: a line `# %%` starts a
code cell, `# %% [markdown]` a Markdown cell (its lines start with "# "). Building writes
notebooks/NN_name.ipynb, executes it in a fresh kernel (outputs saved, so GitHub and nbviewer
show the plots), reports the run time, and fails on any error. {REPO_URL}, {REPO_PATH}
(OWNER/NAME), {REPO_REF} (the pinned tag or commit the badges open; "main" until there is
one) and {INSTALL_SPEC} (the pinned pip reference, or "" while there is none) in a source
are replaced from repo_url.txt — the one place to set when the project is published (then
rebuild, or run tools/set_repo_url.py).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"


def repo_url() -> str:
    return (ROOT / "repo_url.txt").read_text().split()[0].strip()


def repo_ref() -> str:
    """The pinned reference (tag or commit) the badges open, or "main" until one is set."""
    words = (ROOT / "repo_url.txt").read_text().split()
    return words[1] if len(words) > 1 else "main"


def install_spec() -> str:
    """What a notebook's setup cell may pip-install: the public address at a pinned reference
    (tag or commit, repo_url.txt's second line) — or "" while the address is a placeholder or
    unpinned, so that no notebook ever installs code from an address anyone could register."""
    words = (ROOT / "repo_url.txt").read_text().split()
    url, ref = words[0], (words[1] if len(words) > 1 else "")
    if "YOUR-ORG" in url or not ref:
        return ""
    return f"mfteach[data] @ git+{url}@{ref}"


def substitute(text: str) -> str:
    """Fill in the address placeholders from repo_url.txt (the one place they are set)."""
    url = repo_url()
    path = url.split("github.com/", 1)[-1].rstrip("/")  # OWNER/NAME for Colab and Binder links
    return (text.replace("{INSTALL_SPEC}", install_spec()).replace("{REPO_URL}", url)
            .replace("{REPO_PATH}", path).replace("{REPO_REF}", repo_ref()))


def parse(text: str) -> nbformat.NotebookNode:
    """A percent-format source → a notebook, parsed by jupytext (the format's reference reader)."""
    nb = jupytext.reads(substitute(text), fmt="py:percent")
    nb.metadata.pop("jupytext", None)  # the .ipynb is an output, not a paired file
    for cell in nb.cells:
        cell.metadata.pop("lines_to_next_cell", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(src: Path, execute=True) -> float:
    nb = parse(src.read_text())
    out = ROOT / "notebooks" / (src.stem + ".ipynb")
    t = time.perf_counter()
    if execute:
        # A learner's first run: no exercise tried yet (the developer's own progress file is put
        # aside and back), and every run trained here (no runs kept by earlier builds).
        progress = out.parent / "mfteach_progress.json"
        kept = progress.read_bytes() if progress.exists() else None
        progress.unlink(missing_ok=True)
        env = {k: os.environ.get(k) for k in ("MFTEACH_PROGRESS", "MFTEACH_RUN_CACHE")}
        os.environ.pop("MFTEACH_PROGRESS", None)
        os.environ["MFTEACH_RUN_CACHE"] = "off"
        try:
            client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": str(out.parent)}})
            client.execute()
        finally:
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            progress.unlink(missing_ok=True)
            if kept is not None:
                progress.write_bytes(kept)
    secs = time.perf_counter() - t
    for cell in nb.cells:  # execution times/dates would make every rebuild a diff
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, out)
    return secs


def main(argv):
    pick = argv[1:] or [""]
    srcs = sorted(p for p in SRC.glob("*.py") if any(k in p.stem for k in pick))
    if not srcs:
        sys.exit(f"no notebook sources match {pick}")
    for src in srcs:
        secs = build(src)
        print(f"{src.stem}: ran top to bottom in {secs:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
