"""Set the project's public repository address in its one place and everywhere it is used.

    python tools/set_repo_url.py https://github.com/ORG/mfteach

Writes repo_url.txt, then replaces the old address (and its OWNER/NAME form) in README.md and
the built notebooks. Rebuilding the notebooks (tools/build_notebooks.py) also picks it up.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv):
    if len(argv) != 2 or not argv[1].startswith("https://github.com/"):
        sys.exit("usage: python tools/set_repo_url.py https://github.com/OWNER/NAME")
    new = argv[1].rstrip("/")
    old = (ROOT / "repo_url.txt").read_text().strip()
    pairs = [(old, new), (old.split("github.com/", 1)[1], new.split("github.com/", 1)[1])]
    files = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for f in files:
        text = f.read_text()
        for a, b in pairs:
            text = text.replace(a, b)
        f.write_text(text)
    (ROOT / "repo_url.txt").write_text(new + "\n")
    print(f"{old} → {new} in repo_url.txt and {len(files)} files")


if __name__ == "__main__":
    main(sys.argv)
