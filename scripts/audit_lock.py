"""Known vulnerabilities in a locked requirements file (``make audit``).

Run ``python scripts/audit_lock.py requirements-test.txt``. pip-audit reads the
hashed, fully pinned lock without installing anything (``--disable-pip``) and asks
PyPI's vulnerability service about each pinned version. Exit codes:

0
    no known vulnerability that a release fixes (unfixed ones are listed);
1
    at least one vulnerability with a fix available: raise that pin (``make lock
    LOCK_ARGS="--upgrade-package NAME"``);
3
    some pinned packages could not be audited (the service did not answer for
    them), so finding nothing would prove nothing; pip-audit itself would report
    "No known vulnerabilities found" and exit 0. ``--allow-unaudited`` (CI on a
    network where the service does not answer) says so and exits 0 instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXABLE = 1
NOT_AUDITED = 3


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one pinned package."""

    package: str
    version: str
    vulnerability: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What pip-audit's JSON report means for the lock."""

    audited: int
    not_audited: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def fixable(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.fixed_in)

    @property
    def exit_code(self) -> int:
        if self.fixable:
            return FIXABLE
        return NOT_AUDITED if self.not_audited else 0


def judge(report: dict[str, Any]) -> Verdict:
    """Sort pip-audit's ``--format json`` report into findings and unaudited pins."""
    findings: list[Finding] = []
    not_audited: list[str] = []
    for dependency in report["dependencies"]:
        name = dependency["name"]
        if "skip_reason" in dependency:
            not_audited.append(name)
            continue
        findings += [
            Finding(
                package=name,
                version=dependency["version"],
                vulnerability=vuln["id"],
                fixed_in=tuple(vuln["fix_versions"]),
            )
            for vuln in dependency["vulns"]
        ]
    audited = len(report["dependencies"]) - len(not_audited)
    return Verdict(
        audited=audited, not_audited=tuple(not_audited), findings=tuple(findings)
    )


def run_pip_audit(lock: Path) -> dict[str, Any]:
    """pip-audit's JSON report on ``lock``, which must carry a hash for every pin."""
    command = [
        sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes",
        "--requirement", str(lock), "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    # pip-audit exits 1 when it finds something; its report is on stdout either way.
    if not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(f"pip-audit failed (exit {done.returncode}) on {lock}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def describe(verdict: Verdict) -> list[str]:
    """The lines ``make audit`` prints."""
    lines = [
        f"{f.package} {f.version}: {f.vulnerability}, "
        + (f"fixed in {', '.join(f.fixed_in)}" if f.fixed_in else "no fix released")
        for f in verdict.findings
    ]
    lines.append(
        f"audited {verdict.audited} pinned packages: {len(verdict.findings)} known "
        f"vulnerabilities, {len(verdict.fixable)} with a fix available"
    )
    if verdict.not_audited:
        lines.append(
            f"NOT AUDITED: the vulnerability service did not answer for "
            f"{len(verdict.not_audited)} packages (e.g. {verdict.not_audited[0]}); "
            "an audit needs PyPI's JSON API (/pypi/NAME/VERSION/json) reachable"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="hashed requirements file")
    parser.add_argument(
        "--allow-unaudited",
        action="store_true",
        help="exit 0, not 3, when some packages could not be audited",
    )
    args = parser.parse_args(argv)
    verdict = judge(run_pip_audit(args.lock))
    print("\n".join(describe(verdict)))
    if verdict.exit_code == NOT_AUDITED and args.allow_unaudited:
        return 0
    return verdict.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
