"""Set the project's public repository address in its one place and everywhere it is used.

    python tools/set_repo_url.py https://github.com/ORG/mfteach v0.1.0   # a tag or a commit

Writes repo_url.txt (the address, then the pinned reference the notebooks' setup cells install),
then replaces the old address (and its OWNER/NAME form) in README.md and the built notebooks.
Rebuild the notebooks (tools/build_notebooks.py) so their setup cells install the pinned
reference; until then they install nothing and say how to install.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pin_badges(text: str, path: str, ref: str) -> str:
    """Point Colab and Binder badges at ``ref``: Binder builds an image once per reference, so a
    pinned tag stays cached for every student, where a branch is rebuilt after each push."""
    text = re.sub(rf"(colab\.research\.google\.com/github/{re.escape(path)}/blob/)[^/\s)]+/",
                  rf"\g<1>{ref}/", text)
    return re.sub(rf"(mybinder\.org/v2/gh/{re.escape(path)}/)[^?\s)]+\?", rf"\g<1>{ref}?", text)


def main(argv):
    if len(argv) != 3 or not argv[1].startswith("https://github.com/") or "YOUR-ORG" in argv[1] \
            or not argv[2] or argv[2] in ("main", "master", "HEAD"):
        sys.exit("usage: python tools/set_repo_url.py https://github.com/OWNER/NAME TAG-OR-COMMIT\n"
                 "(a pinned reference, never a branch: the notebooks install exactly that)")
    new, ref = argv[1].rstrip("/"), argv[2]
    old = (ROOT / "repo_url.txt").read_text().split()[0].strip()
    pairs = [(old, new), (old.split("github.com/", 1)[1], new.split("github.com/", 1)[1])]
    files = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for f in files:
        text = f.read_text()
        for a, b in pairs:
            text = text.replace(a, b)
        f.write_text(pin_badges(text, new.split("github.com/", 1)[1], ref))
    (ROOT / "repo_url.txt").write_text(f"{new}\n{ref}\n")
    print(f"{old} → {new} (pinned at {ref}) in repo_url.txt and {len(files)} files; "
          f"now rebuild the notebooks: python tools/build_notebooks.py")


if __name__ == "__main__":
    main(sys.argv)
