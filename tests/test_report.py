"""The tumour-board report: what the page says, that it escapes what it was sent
and requests nothing, and ``rediscover report`` on the planted project."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from features import Alteration, Profile
from models import ResponderModel
from rediscover import _report_command
from rediscover.cli import main
from reporting import INTERVAL_MEANING, TOP, PatientReport, build_report, render_report
from tests.models.review_model import build_review_model

WHEN = datetime(2026, 5, 2, 8, 30, tzinfo=UTC)
BRAF_MELANOMA = Profile(
    sample_id="S-0001",
    tumour_type="Melanoma",
    alterations=(
        Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),
        Alteration(kind="mutation", gene="TP53"),
    ),
    tmb_mut_per_mb=8.0,
    msi_high=False,
)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def model() -> ResponderModel:
    """The seven-drug review bundle (patients, clinical benefit), in memory."""
    return build_review_model().model


@pytest.fixture(scope="module")
def cell_line_model(model: ResponderModel) -> ResponderModel:
    """The same bundle, said to be learnt from cell lines."""
    metadata = model.metadata.model_copy(
        update={"population": "cell_line", "endpoint": "ic50_sensitivity"}
    )
    return ResponderModel(
        model.vectorizer, model.boosters, metadata=metadata,
        knowledge=model.knowledge, uncertainty=model.uncertainty,
        offsets=model.offsets, explanations=model.explanations,
    )  # fmt: skip


def _report(
    model: ResponderModel, profile: Profile = BRAF_MELANOMA, *, top: int = TOP
) -> PatientReport:
    return build_report(
        model, profile, model_version="v-42", generated_at=WHEN, top=top,
        read_from=["profile.json"],
    )  # fmt: skip


def _table_drugs(page: str) -> list[str]:
    return re.findall(r"<td class='drug'>([^<]*)</td>", page)


def test_the_page_shows_the_model_the_profile_and_the_ranking(
    model: ResponderModel,
) -> None:
    report = _report(model)
    page = render_report(report)
    top = report.ranked[0]
    assert top.drug in {"dabrafenib", "trametinib"}  # the planted BRAF signal
    assert _table_drugs(page) == [s.drug for s in report.ranked]
    assert "class 1: mutation BRAF V600E" in page
    meta = model.metadata
    for text in (
        "v-42", meta.data_source, meta.data_hash, meta.created_at, "clinical_benefit",
        "S-0001", "melanoma", "V600E", "TP53", "8 mut/Mb", "microsatellite stable",
        "profile.json", INTERVAL_MEANING, "Served by", "per-drug",
    ):  # fmt: skip
        assert text in page, text
    assert 'HRD score</dt><dd><span class="muted">not given' in page
    assert "cell-line sensitivity" not in page


def test_the_first_three_drugs_get_a_waterfall_and_their_training_counts(
    model: ResponderModel,
) -> None:
    report = _report(model)
    page = render_report(report)
    sections = page.split('<section class="drug-section"')[1:]
    assert [e.drug for e in report.explained] == [s.drug for s in report.ranked[:3]]
    assert len(sections) == 3
    for section, explained in zip(sections, report.explained, strict=True):
        assert f"{explained.score.rank}. {explained.drug}: why this score" in section
        assert 'class="waterfall"' in section
        bars = re.findall(r'<rect [^>]*class="bar (up|down)"', section)
        assert len(bars) == len(explained.steps) > 0
        assert explained.key_alteration is not None
        statement = explained.key_alteration.statement
        assert statement[1:] in section  # capitalised on the page
        assert re.match(r"\d+ of \d+ training samples with ", statement)


def test_top_bounds_the_table_and_the_explained_drugs(model: ResponderModel) -> None:
    report = _report(model, top=2)
    page = render_report(report)
    assert len(_table_drugs(page)) == 2
    assert page.count('<section class="drug-section"') == 2
    assert f"the first 2 of {report.n_drugs}" in page
    with pytest.raises(ValueError, match="top must be 1 or more"):
        _report(model, top=0)


def test_a_cell_line_model_says_its_scores_are_not_patient_probabilities(
    cell_line_model: ResponderModel,
) -> None:
    page = render_report(_report(cell_line_model))
    assert (
        "Scores are cell-line sensitivity, not a patient's probability of response"
        in page
    )
    assert "ic50_sensitivity" in page and "cancer cell lines" in page
    # Stated once at the top; each row points there instead of repeating it.
    assert "no: cell-line model (see the top)" in page


def test_hostile_profile_text_is_escaped(model: ResponderModel) -> None:
    profile = BRAF_MELANOMA.model_copy(
        update={
            "tumour_type": HOSTILE,
            "sample_id": f'"><svg onload=alert(1)>{HOSTILE}',
        }
    )
    page = render_report(_report(model, profile))
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "<svg onload" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;svg onload=alert(1)&gt;" in page
    # Genes cannot carry markup: the schema takes HGNC-like symbols only.
    with pytest.raises(ValueError, match="gene"):
        Alteration(kind="mutation", gene="<b>BRAF</b>")


def test_the_page_requests_nothing_and_its_policy_admits_only_its_stylesheet(
    model: ResponderModel,
) -> None:
    page = render_report(_report(model))
    assert "http://" not in page and "https://" not in page
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url("):
        assert tag not in page.lower(), tag
    assert not re.search(r"\s(src|href)=", page)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None and "default-src 'none'" in policy[1]
    styles = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy[1]
    assert ' style="' not in page  # an inline style attribute would be refused


def test_the_page_prints_on_a4_with_each_drug_on_a_new_page(
    model: ResponderModel,
) -> None:
    page = render_report(_report(model))
    assert "@media print" in page and "size: A4" in page
    assert re.search(r"\.drug-section \{ break-before: page;", page)


def test_report_imports_no_bentoml() -> None:
    # In a fresh interpreter: the CLI writes the report without the service.
    code = (
        "import sys, reporting, rediscover._report_command\n"
        "print([m for m in ('bentoml', '_bentoml_sdk') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- rediscover report ------------------------------------------------------------


def _profile_file(folder: Path, profile: object) -> Path:
    path = folder / "profile.json"
    path.write_text(json.dumps(profile))
    return path


def test_the_cli_default_top_is_the_report_s() -> None:
    assert _report_command.TOP == TOP


@pytest.mark.slow
def test_cli_report_on_the_planted_project(
    trained_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = trained_project
    profile = _profile_file(
        tmp_path,
        {
            "tumour_type": "melanoma",
            "alterations": [
                {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}
            ],
        },
    )
    out = tmp_path / "board" / "report.html"
    capsys.readouterr()
    command = ["--config", str(config), "report", str(profile), "--out", str(out)]
    assert main(command) == 0
    assert f"wrote {out}: 2 of 2 drugs, model version 1" in capsys.readouterr().out
    page = out.read_text()
    assert _table_drugs(page) == ["vemurafenib", "olaparib"]  # class 1 first
    assert "<dt>Model version</dt><dd>1</dd>" in page
    assert "<dt>Read from</dt><dd>profile.json</dd>" in page


def test_cli_report_refuses_a_bad_profile_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = _profile_file(
        tmp_path,
        {"tumour_type": "melanoma", "alterations": [{"kind": "banana", "gene": "X"}]},
    )
    out = tmp_path / "report.html"
    assert main(["report", str(profile), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: alterations.0.kind: Input should be 'mutation'" in err
    assert "banana" not in err and "Traceback" not in err
    assert not out.exists()


def test_cli_report_takes_one_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = _profile_file(tmp_path, [{"tumour_type": "melanoma"}] * 2)
    assert main(["report", str(profile), "--out", str(tmp_path / "r.html")]) == 2
    assert "holds a list of 2 profiles; report takes one" in capsys.readouterr().err


def test_cli_report_top_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["report", "p.json", "--out", "r.html", "--top", "0"])
    assert exit_.value.code == 2
    assert "--top: must be a whole number of 1 or more: 0" in capsys.readouterr().err
