"""``make audit``: pip-audit's report on the lock, judged (scripts/audit_lock.py)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "audit_lock", REPO / "scripts" / "audit_lock.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


audit = load_script()


def dependency(name: str, *vulns: tuple[str, list[str]]) -> dict[str, object]:
    return {
        "name": name,
        "version": "1.0",
        "vulns": [{"id": i, "fix_versions": fixed} for i, fixed in vulns],
    }


def skipped(name: str) -> dict[str, str]:
    return {"name": name, "skip_reason": "Dependency not found on PyPI"}


def test_a_clean_lock_passes() -> None:
    verdict = audit.judge({"dependencies": [dependency("a"), dependency("b")]})
    assert (verdict.exit_code, verdict.audited) == (0, 2)


def test_a_vulnerability_with_a_fix_fails() -> None:
    report = {"dependencies": [dependency("a", ("PYSEC-1", ["1.1"])), skipped("b")]}
    verdict = audit.judge(report)
    assert verdict.exit_code == audit.FIXABLE
    assert "a 1.0: PYSEC-1, fixed in 1.1" in audit.describe(verdict)


def test_a_vulnerability_without_a_fix_is_listed_not_fatal() -> None:
    verdict = audit.judge({"dependencies": [dependency("a", ("GHSA-x", []))]})
    assert verdict.exit_code == 0
    assert "a 1.0: GHSA-x, no fix released" in audit.describe(verdict)


def test_packages_the_service_did_not_answer_for_are_not_a_pass() -> None:
    verdict = audit.judge({"dependencies": [dependency("a"), skipped("b")]})
    assert verdict.exit_code == audit.NOT_AUDITED
    assert "NOT AUDITED" in audit.describe(verdict)[-1]


def test_a_known_vulnerable_pin_never_passes_the_real_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # urllib3 1.26.0 has published advisories fixed in later releases: a real
    # pip-audit run fails on it, or says it could not ask (never "all clear").
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "urllib3==1.26.0 --hash=sha256:"
        "bad31cb622ceee0ab46c4c884cf61957def0ff2e644de0a7a093678844c9ccac\n"
    )
    status = audit.main([str(lock)])
    out = capsys.readouterr().out
    assert status in (audit.FIXABLE, audit.NOT_AUDITED), out
    if status == audit.FIXABLE:
        assert "urllib3 1.26.0: " in out
