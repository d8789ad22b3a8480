"""The layers import one way only: core → ui → lessons (→ notebooks). Checked on the source, so a
stray import anywhere (even inside a function) fails here."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mfteach"
CORE = ["data", "splits", "files", "_csv", "datasets", "preprocessing", "model", "config", "history",
        "training", "metrics", "diagnostics", "watch", "tables", "report", "evidence", "findings",
        "runcache", "resume", "forked"]


def imports_of(path: Path) -> set:
    """Every module a file imports, as dotted names resolved against the package."""
    tree = ast.parse(path.read_text())
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1])
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def layer_files(layer):
    if layer == "core":
        return [PKG / f"{m}.py" for m in CORE if (PKG / f"{m}.py").exists()]
    return sorted((PKG / layer).glob("*.py"))


def forbidden(imports, prefixes):
    return sorted(m for m in imports if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", layer_files("core"), ids=lambda p: p.name)
def test_core_imports_no_screen_or_course_code(path):
    bad = forbidden(imports_of(path), ["mfteach.ui", "mfteach.lessons", "matplotlib",
                                       "ipywidgets", "IPython"])
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", layer_files("ui"), ids=lambda p: p.name)
def test_ui_imports_no_course_code(path):
    bad = forbidden(imports_of(path), ["mfteach.lessons"])
    assert not bad, f"ui/{path.name} imports {bad}"


def test_every_module_is_in_a_layer():
    """A new top-level module must be placed: in the core list above, or in ui/ or lessons/."""
    top = {p.stem for p in PKG.glob("*.py")} - {"__init__", "__main__", "cli", "cli_warm"}  # the app
    assert top <= set(CORE), sorted(top - set(CORE))


def test_modules_stay_small():
    sizes = {str(p.relative_to(PKG)): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")
             if "_notebooks" not in p.parts}
    big = {k: v for k, v in sizes.items() if v > 400}
    assert not big, f"modules over 400 lines (aim ≤ 350): {big}"


def test_import_mfteach_loads_no_screen_code():
    code = ("import sys, mfteach; mfteach.train; "
            "print([m for m in ('matplotlib', 'ipywidgets', 'mfteach.ui', 'mfteach.lessons') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
