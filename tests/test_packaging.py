"""The dependency lists agree, the core stays free of screen code, and the README's commands exist."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def names(lines):
    out = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        out.add(re.split(r"[<>=!~ \[]", line)[0].lower())
    return out


def test_requirements_environment_and_pyproject_agree():
    req = names((ROOT / "requirements.txt").read_text().splitlines())
    env_lines = [l.strip()[2:] for l in (ROOT / "environment.yml").read_text().splitlines()
                 if l.startswith("      - ")]
    env = names(env_lines)
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = names(py["dependencies"])
    notebooks = names(py["optional-dependencies"]["notebooks"])
    assert req == env, f"requirements.txt vs environment.yml: {req ^ env}"
    assert req == core | notebooks, f"requirements.txt vs pyproject: {req ^ (core | notebooks)}"


def test_core_imports_no_screen_code():
    code = ("import sys, mfteach; "
            "bad = [m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    cmd = re.search(r"```bash\n# test\n(.+?)\n```", readme, re.S).group(1).strip()
    assert cmd.splitlines()[-1] in ci


def test_repository_address_lives_in_one_place():
    """Badges and install cells all use repo_url.txt's address (set it with tools/set_repo_url.py)."""
    url = (ROOT / "repo_url.txt").read_text().split()[0]
    path = url.split("github.com/", 1)[1]
    for f in [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]:
        text = f.read_text()
        for m in re.finditer(r"github(?:\.com)?/([\w.-]+/[\w.-]+?)(?:\.git)?(?=[/\"')\s]|$)", text):
            if m.group(1).startswith(("googlecolab", "colab")):
                continue
            assert m.group(1) in (path, path.split("/")[0] + "/" + path.split("/")[1]), (f.name, m.group(0))


def test_notebooks_have_the_required_parts():
    import json

    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        text = "\n".join("".join(c["source"]) for c in nb["cells"])
        for part in ("Open In Colab", "Binder", "Setup", "Predict", "Try this", "Exercise",
                     "Real data", "Summary", ".check(", ".hint(", "NBVAL_CHECK_OUTPUT"):
            assert part in text, (nb_path.name, part)
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        counts = [c.get("execution_count") for c in code]
        assert counts == list(range(1, len(code) + 1)), f"{nb_path.name}: not one clean top-to-bottom run"
        errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, nb_path.name
        stderr = [o for c in code for o in c.get("outputs", []) if o.get("name") == "stderr"]
        assert not stderr, (nb_path.name, stderr[:1])
        # No internals on screen: an object's repr with its memory address (a namespace dict
        # returned by a cell's last line printed 16,000 characters of them; a setup cell ended
        # with threadpool_limits(...), whose repr has no "object").
        for c in code:
            for o in c.get("outputs", []):
                shown = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                assert not re.search(r"<[\w.]+( object)? at 0x[0-9a-f]+>", shown), \
                    (nb_path.name, "".join(c["source"])[:60], shown[:200])


def test_setup_cells_never_install_from_a_placeholder_or_a_branch():
    """The setup cell pip-installs only a pinned reference of a real address; while
    repo_url.txt holds a placeholder (or no reference) it installs nothing and says how."""
    import json

    words = (ROOT / "repo_url.txt").read_text().split()
    pinned = "YOUR-ORG" not in words[0] and len(words) > 1
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb_path.read_text())["cells"]
        setup = next("".join(c["source"]) for c in cells
                     if c["cell_type"] == "code" and "find_spec(\"mfteach\")" in "".join(c["source"]))
        assert "YOUR-ORG" not in setup and "git+https" not in setup.replace("INSTALL", ""), nb_path.name
        m = re.search(r'INSTALL = "([^"]*)"', setup)
        assert m, f"{nb_path.name}: no INSTALL line in the setup cell"
        if pinned:
            assert m.group(1).endswith("@" + words[1]), (nb_path.name, m.group(1))
        else:
            assert m.group(1) == "", (nb_path.name, m.group(1))
            assert "pip install" in setup, nb_path.name  # it says how to install


def test_install_spec_is_pinned_or_empty(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tools"))
    import build_notebooks

    monkeypatch.setattr(build_notebooks, "ROOT", tmp_path)
    (tmp_path / "repo_url.txt").write_text("https://github.com/YOUR-ORG/mfteach\n")
    assert build_notebooks.install_spec() == ""
    (tmp_path / "repo_url.txt").write_text("https://github.com/acme/mfteach\n")
    assert build_notebooks.install_spec() == ""          # an address with no pinned reference
    (tmp_path / "repo_url.txt").write_text("https://github.com/acme/mfteach\nv0.1.0\n")
    assert build_notebooks.install_spec() == "mfteach[data] @ git+https://github.com/acme/mfteach@v0.1.0"


def test_binder_dependency_layer_does_not_change_with_the_code():
    """repo2docker installs .binder/requirements.txt before copying the repository only when it
    names no local path; the package itself goes in last (postBuild)."""
    lines = (ROOT / ".binder" / "requirements.txt").read_text().splitlines()
    assert names(lines) == names((ROOT / "requirements.txt").read_text().splitlines())
    local = [l for l in lines if l.strip().startswith(("-e", ".", "file:", "/")) or " @ " in l]
    assert not local, local
    assert any("download.pytorch.org/whl/cpu" in l for l in lines)  # the CPU build of torch
    post = ROOT / ".binder" / "postBuild"
    assert post.stat().st_mode & 0o111 and "--no-deps" in post.read_text()
    # the image keeps the notebooks' runs (a student's Run All reads them back), optionally
    assert "mfteach warm ||" in post.read_text()
    assert (ROOT / ".binder" / "runtime.txt").read_text().strip().startswith("python-3.")


def badge_refs(text):
    """The reference every Colab/Binder badge in ``text`` opens."""
    return set(re.findall(r"colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/([^/\s)]+)/", text)
               + re.findall(r"mybinder\.org/v2/gh/[^/\s)]+/[^/\s)]+/([^?\s)]+)\?", text))


def test_badges_open_the_pinned_reference():
    """Binder caches one image per reference: badges on a pinned tag stay warm for every student
    (a branch is rebuilt after each push). Until the project is published the reference is main."""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_notebooks

    ref = build_notebooks.repo_ref()
    readme = (ROOT / "README.md").read_text()
    assert badge_refs(readme) == {ref}
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert badge_refs(nb_path.read_text()) <= {ref}, nb_path.name


def test_set_repo_url_pins_the_badges():
    sys.path.insert(0, str(ROOT / "tools"))
    import set_repo_url

    text = (ROOT / "README.md").read_text().replace("YOUR-ORG/mfteach", "acme/mfteach")
    pinned = set_repo_url.pin_badges(text, "acme/mfteach", "v0.2.0")
    assert badge_refs(pinned) == {"v0.2.0"}
    assert pinned.count("v0.2.0") == text.count("/blob/main/") + text.count("/mfteach/main?")


def test_notebook_sources_take_the_badge_reference_from_repo_url():
    for src in sorted((ROOT / "notebooks" / "src").glob("*.py")):
        text = src.read_text()
        assert "/blob/{REPO_REF}/" in text and "{REPO_REF}?urlpath" in text, src.name
        assert "/blob/main/" not in text and "/main?urlpath" not in text, src.name
