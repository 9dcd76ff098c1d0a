"""``rediscover score`` from files (issue 13, parts 2 and 4): each format ranks as
its equivalent profile JSON does; ``--out`` writes every field of every profile x
drug in chunks; a malformed file exits 2 naming file, line and column, never the
value; no sample id or profile content reaches stdout or stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from features import Profile
from rediscover._score_output import SCORE_COLUMNS
from rediscover.cli import main
from tests.conftest import FIXTURES, write_planted_project
from training.data import Cohort, read_cohort, write_cohort

SECRET = "SECRET-7f3a"  # a cell value no message may show


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted project with a champion: vemurafenib served by its BRAF
    biomarker, olaparib by its own booster, planted on TP53 (no biomarker of
    olaparib's), so the scores read the genome through trees and SHAP too."""
    folder = tmp_path_factory.mktemp("project")
    config, planted = write_planted_project(folder, n=120)
    cohort = read_cohort(planted)
    tp53 = {p.sample_id for p in cohort.profiles if "TP53" in genes_of(p)}
    treatments = cohort.treatments.copy()
    olaparib = treatments["drug"] == "olaparib"
    draws = np.random.default_rng(3).random(int(olaparib.sum()))
    carries = treatments.loc[olaparib, "sample_id"].isin(tp53).to_numpy()
    treatments.loc[olaparib, "responded"] = (
        draws < np.where(carries, 0.8, 0.1)
    ).astype(int)
    data = write_cohort(
        Cohort(profiles=cohort.profiles, treatments=treatments),
        folder / "tp53-cohort",
        source="planted",
    )
    assert main(["--config", str(config), "train", "--data", str(data)]) == 0
    return config


def genes_of(profile: Profile) -> set[str]:
    return {event.gene for event in profile.alterations}


def scored(
    config: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> list[list[dict[str, Any]]]:
    """The ``results`` of ``rediscover score ARGS --json``."""
    capsys.readouterr()
    assert main(["--config", str(config), "score", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["results"]


def json_file(folder: Path, profiles: list[dict[str, Any]]) -> str:
    path = folder / "equivalent.json"
    path.write_text(json.dumps(profiles))
    return str(path)


# --- each format ranks as its profile JSON ----------------------------------------


@pytest.mark.slow
def test_a_hartwig_folder_scores_as_its_profile_json(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    equivalent = {
        "sample_id": "SYNTH01T", "tumour_type": "melanoma",
        "alterations": [
            {"kind": "mutation", "gene": "BRAF"},
            {"kind": "mutation", "gene": "TP53"},
            {"kind": "amplification", "gene": "ERBB2"},
            {"kind": "deletion", "gene": "CDKN2A"},
            {"kind": "mutation", "gene": "BRCA2"},
            {"kind": "deletion", "gene": "PTEN"},
            {"kind": "fusion", "gene": "TMPRSS2", "partner_gene": "ERG"},
        ],
        "tmb_mut_per_mb": 13.7219, "msi_high": False, "hrd_score": 71.736,
    }  # fmt: skip
    folder = str(FIXTURES / "hartwig_sample")
    from_files = scored(project, capsys, folder, "--tumour-type", "melanoma")
    assert from_files == scored(project, capsys, json_file(tmp_path, [equivalent]))
    # The files matter: BRCA2 (germline) and CHORD's HRD are olaparib's evidence.
    olaparib = next(r for r in from_files[0] if r["drug"] == "olaparib")
    assert olaparib["matched_biomarker"]["alteration"] == "mutation BRCA2"


@pytest.mark.slow
def test_a_maf_with_cna_and_sv_scores_as_its_profile_json(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maf = FIXTURES / "maf"
    equivalent = [
        {"sample_id": "M1", "tumour_type": "melanoma", "alterations": [
            {"kind": "amplification", "gene": "ERBB2"},
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"},
            {"kind": "mutation", "gene": "TP53", "protein_change": "R175H"}]},
        {"sample_id": "M2", "tumour_type": "melanoma", "alterations": [
            {"kind": "deletion", "gene": "CDKN2A"},
            {"kind": "fusion", "gene": "EML4", "partner_gene": "ALK"},
            {"kind": "mutation", "gene": "KRAS", "protein_change": "G12D"}]},
    ]  # fmt: skip
    from_files = scored(
        project, capsys, str(maf / "mutations.txt"), "--cna", str(maf / "cna.txt"),
        "--sv", str(maf / "sv.txt"), "--tumour-type", "melanoma",
    )  # fmt: skip
    assert from_files == scored(project, capsys, json_file(tmp_path, equivalent))
    assert from_files[0][0]["drug"] == "vemurafenib"  # BRAF V600E read from the MAF


@pytest.mark.slow
def test_a_cbioportal_study_without_outcomes_scores_every_sample(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    equivalent = [
        {"sample_id": "C1", "tumour_type": "melanoma", "alterations": [
            {"kind": "deletion", "gene": "CDKN2A"},
            {"kind": "mutation", "gene": "BRAF", "protein_change": "V600E"}],
         "tmb_mut_per_mb": 14.2, "msi_high": False},
        {"sample_id": "C2", "tumour_type": "colorectal", "alterations": [
            {"kind": "fusion", "gene": "NCOA4", "partner_gene": "RET"},
            {"kind": "mutation", "gene": "KRAS", "protein_change": "G12D"}],
         "tmb_mut_per_mb": 48.5, "msi_high": True},
        {"sample_id": "C3", "tumour_type": "breast", "alterations": [
            {"kind": "amplification", "gene": "ERBB2"},
            {"kind": "mutation", "gene": "PIK3CA", "protein_change": "H1047R"}],
         "tmb_mut_per_mb": 1.5, "msi_high": False},
    ]  # fmt: skip
    study = str(FIXTURES / "cbioportal_study_no_outcomes")
    from_files = scored(project, capsys, study)
    assert len(from_files) == 3
    assert from_files == scored(project, capsys, json_file(tmp_path, equivalent))
    # --tumour-type gives every sample one type instead of the clinical table's.
    one_type = [dict(p, tumour_type="melanoma") for p in equivalent]
    assert scored(project, capsys, study, "--tumour-type", "melanoma") == scored(
        project, capsys, json_file(tmp_path, one_type)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["profiles.csv", "profiles.tsv", "profiles.jsonl"])
def test_profile_tables_and_jsonl_score_as_a_json_list(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    lines = (FIXTURES / "profiles.jsonl").read_text().splitlines()
    equivalent = json_file(tmp_path, [json.loads(line) for line in lines])
    from_file = scored(project, capsys, str(FIXTURES / name))
    assert len(from_file) == 4
    assert from_file == scored(project, capsys, equivalent)
    assert from_file == scored(project, capsys, "--in", str(FIXTURES / name))


# --- --out --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_out_holds_every_field_of_every_profile_and_drug(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    source = str(FIXTURES / "profiles.csv")
    expected = scored(project, capsys, source, "--explain-top", "1")
    out = tmp_path / "new folder" / f"scores{suffix}"  # made when missing
    command = ["--config", str(project), "score", "--in", source, "--out", str(out)]
    assert main([*command, "--chunk-size", "3", "--explain-top", "1"]) == 0
    rows = read_rows(out)
    assert list(rows.columns) == list(SCORE_COLUMNS)
    assert len(rows) == sum(len(r) for r in expected) == 4 * 2
    assert rows["profile"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert rows["sample_id"].tolist() == [
        "T1",
        "T1",
        "T2",
        "T2",
        "T3",
        "T3",
        "T4",
        "T4",
    ]
    flat = [result for results in expected for result in results]
    for column in ("drug", "rank", "probability", "raw_probability", "base_rate",
                   "lift", "coverage", "in_domain", "reason", "served_by"):  # fmt: skip
        assert rows[column].tolist() == [r[column] for r in flat], column
    assert rows["interval_low"].tolist() == [r["interval"][0] for r in flat]
    assert rows["prediction_set"].tolist() == [r["prediction_set"] for r in flat]
    matched = [r["matched_biomarker"] or {} for r in flat]
    assert rows["matched_alteration"].tolist() == [m.get("alteration") for m in matched]
    assert rows["top_features"].tolist() == [r["top_features"] for r in flat]
    assert any(rows["top_features"]) and not all(rows["top_features"])
    # Nothing but the summary reaches the terminal: no sample id, no gene.
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "scored 4 profiles x 2 drugs (8 rows)" in captured.err
    assert not any(s in captured.err for s in ("T1", "BRAF", "melanoma"))


def read_rows(path: Path) -> pd.DataFrame:
    """An --out file as a frame, list cells as lists, missing as None."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        for name in ("prediction_set", "top_features"):
            frame[name] = [[_plain(x) for x in v] for v in frame[name]]
        frame["matched_class"] = frame["matched_class"].astype(object)
    elif path.suffix == ".jsonl":
        frame = pd.DataFrame([json.loads(x) for x in path.read_text().splitlines()])
    else:
        frame = pd.read_csv(path, dtype={"sample_id": str, "model_version": str})
        for name in ("prediction_set", "top_features"):
            frame[name] = [json.loads(v) for v in frame[name]]
    return frame.astype(object).where(frame.notna(), None)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else int(value)


@pytest.mark.slow
def test_out_streams_and_leaves_nothing_when_the_input_breaks_midway(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "profiles.jsonl"
    good = (FIXTURES / "profiles.jsonl").read_text()
    source.write_text(good + f'{{"tumour_type": "{SECRET}", "msi_high": 1}}\n')
    out = tmp_path / "scores.parquet"
    command = ["--config", str(project), "score", "--in", str(source), "--out"]
    # The first chunks are scored and written before line 5 is read.
    assert main([*command, str(out), "--chunk-size", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{source}, line 5, field msi_high" in err and SECRET not in err
    assert list(tmp_path.glob("scores*")) == []

    out.write_text("taken")
    assert main([*command, str(out)]) == 2
    assert "already exists; --force replaces it" in capsys.readouterr().err
    source.write_text(good)
    assert main([*command, str(out), "--force", "--progress", "always"]) == 0
    assert "scoring: " in capsys.readouterr().err  # the progress bar
    assert len(pd.read_parquet(out)) == 8


# --- malformed files: exit 2, file, line and column, no value -----------------------


def write_config(folder: Path) -> Path:
    """A config without a champion: reading must fail (2) before the model (3)."""
    config = folder / "mlflow.yml"
    config.write_text(f"tracking:\n  uri: sqlite:///{folder}/mlflow.db\n")
    return config


def replaced(source: Path, target: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    return target


def hartwig_copy(tmp_path: Path, suffix: str, old: str, new: str) -> list[str]:
    folder = tmp_path / "sample"
    shutil.copytree(FIXTURES / "hartwig_sample", folder)
    path = next(folder.rglob(f"*{suffix}"))
    replaced(path, path, old, new)
    return [str(folder), "--tumour-type", "melanoma"]


def maf_copy(tmp_path: Path, name: str, old: str, new: str) -> list[str]:
    folder = tmp_path / "maf"
    shutil.copytree(FIXTURES / "maf", folder)
    replaced(folder / name, folder / name, old, new)
    return [str(folder / "mutations.txt"), "--cna", str(folder / "cna.txt"),
            "--sv", str(folder / "sv.txt"), "--tumour-type", "melanoma"]  # fmt: skip


def study_copy(tmp_path: Path, name: str, old: str, new: str) -> list[str]:
    folder = tmp_path / "study"
    shutil.copytree(FIXTURES / "cbioportal_study_no_outcomes", folder)
    replaced(folder / name, folder / name, old, new)
    return [str(folder)]


def written(path: Path, text: str) -> list[str]:
    path.write_text(text)
    return [str(path)]


def fixture_copy(tmp_path: Path, name: str, old: str, new: str) -> list[str]:
    return [str(replaced(FIXTURES / name, tmp_path / name, old, new))]


MALFORMED = {
    "json": (
        lambda t: written(t / "p.json", '[{"tumour_type": "x"},\n'
                          f' {{"tumour_type": "x", "msi_high": "{SECRET}"}}]'),
        "p.json, line 2, field msi_high: Input should be a valid boolean",
    ),
    "json syntax": (
        lambda t: written(t / "p.json", f'[{{"tumour_type": "{SECRET}"}}\n {{}}]'),
        "p.json, line 2, column 2: not valid JSON: Expecting ',' delimiter",
    ),
    "jsonl": (
        lambda t: fixture_copy(
            t, "profiles.jsonl", '"kind": "fusion"', f'"kind": "{SECRET}"'
        ),
        "profiles.jsonl, line 3, field alterations.0.kind",
    ),
    "csv": (
        lambda t: fixture_copy(t, "profiles.csv", ",55.1,true,", f",55.1,{SECRET},"),
        "profiles.csv, line 7, column 8 (msi_high)",
    ),
    "tsv": (
        lambda t: fixture_copy(t, "profiles.tsv", "ERBB2", f"{SECRET}!"),
        "profiles.tsv, line 4, column 4 (gene)",
    ),
    "hartwig": (
        lambda t: hartwig_copy(t, "somatic.tsv", "\tERBB2\t", f"\t{SECRET}!\t"),
        "purple/*.purple.driver.catalog.somatic.tsv, line 6, column 3 (gene)",
    ),
    "hartwig purity": (
        lambda t: hartwig_copy(t, "purity.tsv", "\t13.7219\t", f"\t{SECRET}\t"),
        "purple/*.purple.purity.tsv, line 2, column 21 (tmbPerMb)",
    ),
    "maf": (
        lambda t: maf_copy(t, "mutations.txt", "KRAS\t", f"{SECRET}!\t"),
        "mutations.txt, line 6, column 1 (Hugo_Symbol)",
    ),
    "cna": (
        lambda t: maf_copy(
            t, "cna.txt", "ERBB2\t2064\t2\t0", f"ERBB2\t2064\t2\t{SECRET}"
        ),
        "cna.txt, line 2, column 4: copy number is not a number",
    ),
    "sv": (
        lambda t: maf_copy(t, "sv.txt", "\tALK\t", f"\t{SECRET}!\t"),
        "sv.txt, line 2, column 5 (Site2_Hugo_Symbol)",
    ),
    "study without a clinical row": (
        lambda t: study_copy(t, "data_clinical_sample.txt", "C3\tP3", "C9\tP3"),
        "data_mutations.txt, line 5, column 4 (Tumor_Sample_Barcode): no tumour type",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_exits_2_naming_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    build, where = MALFORMED[case]
    args = build(tmp_path)
    assert main(["--config", str(write_config(tmp_path)), "score", *args]) == 2
    err = capsys.readouterr().err
    [line] = err.strip().splitlines()
    assert line.startswith("error: ") and where in line, err
    assert SECRET not in err
    # Sample ids stay private too (Hartwig names its files after the sample).
    assert not any(s in err for s in ("SYNTH01T", "M2", "C3", "C9", "T4"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(FIXTURES / "hartwig_sample")], "give --tumour-type"),
        ([str(FIXTURES / "maf" / "mutations.txt")], "give --tumour-type"),
        (
            [str(FIXTURES / "profiles.csv"), "--tumour-type", "melanoma"],
            "carry their own",
        ),
        ([str(FIXTURES / "profiles.csv"), "--cna", "x.txt"], "go with a MAF"),
        ([str(FIXTURES)], "neither a Hartwig sample folder"),
        ([str(FIXTURES / "README.md")], "give --format"),
        ([str(FIXTURES / "profiles.csv"), "--out", "x.xlsx"], ".csv, .jsonl, .parquet"),
        ([str(FIXTURES / "nothing.json")], "no such file"),
    ],
)
def test_inputs_and_options_that_do_not_fit_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--config", str(write_config(tmp_path)), "score", *args]) == 2
    assert message in capsys.readouterr().err
