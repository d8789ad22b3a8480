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
