"""pip-audit of the pinned requirements (prod.txt, run.txt, dev.txt), for bin/test and CI.

    .venv/bin/python requirements/audit.py

Audits exactly the pinned, hashed files (``--require-hashes --disable-pip``: no virtualenv is
built, nothing is installed) against PyPI's vulnerability data (pip-audit's default service).

Exit status:
  0  every pinned package audited, no known vulnerability;
  1  a known vulnerability in a pinned release: the package, the advisory and the fixed releases
     are printed. Fix: ``requirements/compile --upgrade-package NAME==FIXED``, then bin/test;
  2  the audit could not run (pip-audit failed: the service did not answer), after 3 tries (10 s
     then 30 s apart) so that a network blip is absorbed;
  3  the audit ran but some packages could not be audited (the service had no answer for their
     pinned release, e.g. a registry mirror that does not serve PyPI's per-release JSON, where
     pip-audit reads the vulnerabilities): named, counted.

bin/test fails on 1 always, and on 2 or 3 only with RAK_PIP_AUDIT=strict (the default, « warn »,
prints them loudly but lets the run pass: a check that cannot reach its data must not turn every CI
run red; RAK_PIP_AUDIT=off skips the step). See requirements/README.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("prod.txt", "run.txt", "dev.txt")
PAUSES = (10, 30)  # seconds before the 2nd and the 3rd try
TIMEOUT = 300  # one try; about 20 s when PyPI answers


def run_once(output: Path) -> tuple[dict | None, str]:
    """One pip-audit run: (its JSON report, or None when it could not finish; its stderr)."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--require-hashes", "--disable-pip", "--progress-spinner", "off"]
    command += ["--format", "json", "--output", str(output)]
    for name in FILES:
        command += ["-r", str(HERE / name)]
    output.unlink(missing_ok=True)
    try:
        result = subprocess.run(  # noqa: S603 (our own command line)
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        stderr = result.stderr
    except subprocess.TimeoutExpired:
        return None, f"pip-audit did not finish within {TIMEOUT} s"
    try:
        return json.loads(output.read_text(encoding="utf-8")), stderr
    except (OSError, ValueError):
        return None, stderr


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rak-pip-audit-") as tmp:
        output = Path(tmp) / "audit.json"
        report, stderr = None, ""
        for attempt, pause in enumerate((0, *PAUSES), start=1):
            if pause:
                print(f"pip-audit: try {attempt - 1} did not finish, again in {pause} s", file=sys.stderr)
                time.sleep(pause)
            report, stderr = run_once(output)
            if report is not None:
                break
    if report is None:
        last_lines = "\n".join(stderr.strip().splitlines()[-3:])
        print(f"pip-audit: the audit could not run (3 tries):\n{last_lines}", file=sys.stderr)
        return 2
    status, lines = summarize(report)
    for line in lines:
        print(f"pip-audit: {line}", file=sys.stderr)
    return status


def summarize(report: dict) -> tuple[int, list[str]]:
    """The exit status (0, 1 or 3, see above) and the lines to print for one pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"{dep['name']} {dep['version']}: {vuln['id']}{f' ({aliases})' if aliases else ''}, fixed in: {fixed}"
            )
    if vulnerable:
        lines.append(
            f"{len(vulnerable)} of {len(dependencies)} pinned packages have a known vulnerability:"
            " requirements/compile --upgrade-package NAME==FIXED, then bin/test"
        )
        return 1, lines
    if skipped:
        reasons = sorted({dep["skip_reason"].split(":")[0] for dep in skipped})
        names = ", ".join(dep["name"] for dep in skipped[:8])
        more = f" and {len(skipped) - 8} more" if len(skipped) > 8 else ""
        lines.append(
            f"{len(skipped)} of {len(dependencies)} pinned packages could NOT be audited"
            f" ({'; '.join(reasons)}): {names}{more}"
        )
        return 3, lines
    return 0, [f"no known vulnerability in {len(dependencies)} pinned packages"]


if __name__ == "__main__":
    sys.exit(main())
