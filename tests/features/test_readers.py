"""Profile readers: Hartwig folders, profile tables and JSON, by their documented
rules; every error names file, line and column, never the value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from features import Alteration, Profile
from features.readers import (
    HRD_POSITIVE_SCORE,
    ProfileFileError,
    read_hartwig_sample,
    read_profile_json_text,
    read_profile_jsonl,
    read_profile_table,
)
from tests.conftest import FIXTURES

HARTWIG = FIXTURES / "hartwig_sample"
SECRET = "SECRET-7f3a"  # a cell value no error message may show

# --- Hartwig sample folder -----------------------------------------------------------

_CATALOGUE_HEADER = (
    "chromosome\tchromosomeBand\tgene\ttranscript\tisCanonical\tdriver\tcategory\t"
    "likelihoodMethod\tdriverLikelihood\tmissense\tnonsense\tsplice\tinframe\t"
    "frameshift\tbiallelic\tminCopyNumber\tmaxCopyNumber\n"
)


def driver_row(gene: str, driver: str, likelihood: str) -> str:
    return (
        f"1\tp1\t{gene}\tENST0\ttrue\t{driver}\tTSG\tDNDS\t{likelihood}"
        "\t0\t0\t0\t0\t0\tfalse\t1\t1\n"
    )


def hartwig_folder(tmp_path: Path, *, sample: str = "S01T") -> Path:
    """The fixture folder flattened (every file at the top), renamed to ``sample``."""
    folder = tmp_path / "sample"
    folder.mkdir()
    for path in HARTWIG.rglob("*.t*"):
        name = path.name.replace("SYNTH01T", sample)
        text = path.read_text().replace("SYNTH01T", sample)
        (folder / name).write_text(text)
    return folder


def test_the_hartwig_fixture_reads_as_documented() -> None:
    profile = read_hartwig_sample(HARTWIG, tumour_type="prostate")
    assert profile == Profile(
        sample_id="SYNTH01T",
        tumour_type="prostate",
        alterations=(
            # SF3B1 (likelihood 0.15) and PTEN's HET_DEL (0) are left out; TP53's
            # second transcript, DMD_DMD (not reported) and EGFR_EGFR (one gene).
            Alteration(kind="mutation", gene="BRAF"),
            Alteration(kind="mutation", gene="TP53"),
            Alteration(kind="amplification", gene="ERBB2"),
            Alteration(kind="deletion", gene="CDKN2A"),
            Alteration(kind="mutation", gene="BRCA2"),  # GERMLINE_MUTATION
            Alteration(kind="deletion", gene="PTEN"),  # HOM_DEL_DISRUPTION
            Alteration(kind="fusion", gene="TMPRSS2", partner_gene="ERG"),
        ),
        tmb_mut_per_mb=13.7219,
        msi_high=False,
        hrd_score=71.736,  # CHORD p_hrd 0.854 x 84
    )


def test_files_may_sit_in_the_folder_itself(tmp_path: Path) -> None:
    flat = read_hartwig_sample(hartwig_folder(tmp_path), tumour_type="prostate")
    nested = read_hartwig_sample(HARTWIG, tumour_type="prostate")
    assert flat == nested.model_copy(update={"sample_id": "S01T"})


@pytest.mark.parametrize(
    ("driver", "kind"),
    [
        ("MUTATION", "mutation"),
        ("AMP", "amplification"),
        ("PARTIAL_AMP", "amplification"),
        ("DEL", "deletion"),
        ("HOM_DISRUPTION", "deletion"),
        ("HOM_DEL_DISRUPTION", "deletion"),
        ("HOM_DUP_DISRUPTION", "deletion"),
        ("DISRUPTION", "deletion"),
        ("GERMLINE_MUTATION", "mutation"),
        ("GERMLINE_DELETION", "mutation"),
        ("GERMLINE_DISRUPTION", "mutation"),
        ("GERMLINE_AMP", "amplification"),
        ("HET_DEL", None),
        ("LOH", None),
        ("UNKNOWN", None),
    ],
)
def test_each_driver_type_has_its_kind(
    tmp_path: Path, driver: str, kind: str | None
) -> None:
    folder = hartwig_folder(tmp_path)
    catalogue = folder / "S01T.purple.driver.catalog.somatic.tsv"
    catalogue.write_text(_CATALOGUE_HEADER + driver_row("NF1", driver, "1.0"))
    events = read_hartwig_sample(folder, tumour_type="x").alterations
    nf1 = [e.kind for e in events if e.gene == "NF1"]
    assert nf1 == ([] if kind is None else [kind])


def test_only_drivers_with_likelihood_of_at_least_one_half_count(
    tmp_path: Path,
) -> None:
    folder = hartwig_folder(tmp_path)
    rows = driver_row("NF1", "MUTATION", "0.4999") + driver_row("NF2", "DEL", "0.5")
    catalogue = folder / "S01T.purple.driver.catalog.somatic.tsv"
    catalogue.write_text(_CATALOGUE_HEADER + rows)
    (folder / "S01T.linx.driver.catalog.tsv").unlink()
    (folder / "S01T.purple.driver.catalog.germline.tsv").unlink()
    profile = read_hartwig_sample(folder, tumour_type="x")
    assert [e.gene for e in profile.alterations if e.kind != "fusion"] == ["NF2"]


@pytest.mark.parametrize(
    ("p_hrd", "status", "score"),
    [
        ("0.5", "HR_deficient", HRD_POSITIVE_SCORE),  # CHORD's threshold -> GIS's
        ("1.0", "HR_deficient", 84.0),
        ("0.002", "HR_proficient", 0.168),
        ("0.002", "cannot_be_determined", None),
    ],
)
def test_chord_probability_lands_on_the_hrd_score_threshold(
    tmp_path: Path, p_hrd: str, status: str, score: float | None
) -> None:
    folder = hartwig_folder(tmp_path)
    (folder / "S01T.chord.prediction.tsv").write_text(
        "sample\tp_BRCA1\tp_BRCA2\tp_hrd\thr_status\thrd_type\tremarks_hr_status\t"
        f"remarks_hrd_type\nS01T\t0\t0\t{p_hrd}\t{status}\tnone\t\t\n"
    )
    assert read_hartwig_sample(folder, tumour_type="x").hrd_score == score


def test_the_old_chord_file_name_is_read_and_no_chord_means_no_hrd(
    tmp_path: Path,
) -> None:
    folder = hartwig_folder(tmp_path)
    chord = folder / "S01T.chord.prediction.tsv"
    chord.rename(folder / "S01T_chord_prediction.txt")
    assert read_hartwig_sample(folder, tumour_type="x").hrd_score == 71.736
    (folder / "S01T_chord_prediction.txt").unlink()
    assert read_hartwig_sample(folder, tumour_type="x").hrd_score is None


def test_unknown_ms_and_tmb_status_give_no_value(tmp_path: Path) -> None:
    folder = hartwig_folder(tmp_path)
    purity = folder / "S01T.purple.purity.tsv"
    purity.write_text(
        purity.read_text()
        .replace("\tMSS\t", "\tUNKNOWN\t")
        .replace("\t13.7219\tHIGH\t", "\t0.0\tUNKNOWN\t")
    )
    profile = read_hartwig_sample(folder, tumour_type="x")
    assert (profile.msi_high, profile.tmb_mut_per_mb) == (None, None)
    purity.write_text(purity.read_text().replace("\tUNKNOWN\t184\t", "\tMSI\t184\t"))
    assert read_hartwig_sample(folder, tumour_type="x").msi_high is True


def test_fusion_genes_come_from_gene_start_and_end_in_older_files(
    tmp_path: Path,
) -> None:
    folder = hartwig_folder(tmp_path)
    (folder / "S01T.linx.fusion.tsv").write_text(
        "fivePrimeBreakendId\tthreePrimeBreakendId\tname\treported\treportedType\t"
        "geneStart\tgeneEnd\n1\t2\tIGH_MYC\ttrue\tIG_KNOWN_PAIR\tIGH\tMYC\n"
        "3\t4\tA_B\tFALSE\tNONE\tA\tB\n"
    )
    events = read_hartwig_sample(folder, tumour_type="x").alterations
    assert [e for e in events if e.kind == "fusion"] == [
        Alteration(kind="fusion", gene="IGH", partner_gene="MYC")
    ]


def hartwig_error(folder: Path) -> str:
    with pytest.raises(ProfileFileError) as error:
        read_hartwig_sample(folder, tumour_type="x")
    message = str(error.value)
    assert SECRET not in message and "S01T" not in message
    return message


@pytest.mark.parametrize(
    ("suffix", "old", "where"),
    [
        (
            ".purple.driver.catalog.somatic.tsv",
            "\t1.0000\t1\t0\t0\t0\t0\tfalse\t3.0275",
            "line 2, column 9 (driverLikelihood)",
        ),
        (".purple.driver.catalog.somatic.tsv", "\tAMP\t", "line 6, column 6 (driver)"),
        (".purple.purity.tsv", "\tMSS\t", "line 2, column 18 (msStatus)"),
        (".purple.purity.tsv", "\t13.7219\t", "line 2, column 21 (tmbPerMb)"),
        (".linx.fusion.tsv", "\ttrue\tKNOWN_PAIR", "line 3, column 4 (reported)"),
        (".linx.fusion.tsv", "TMPRSS2_ERG", "line 3, column 3 (name)"),
        (".chord.prediction.tsv", "\t0.854\t", "line 2, column 4 (p_hrd)"),
        (".purple.driver.catalog.germline.tsv", "BRCA2", "line 2, column 3 (gene)"),
    ],
)
def test_a_bad_cell_is_named_by_file_pattern_line_and_column(
    tmp_path: Path, suffix: str, old: str, where: str
) -> None:
    folder = hartwig_folder(tmp_path)
    path = folder / f"S01T{suffix}"
    text = path.read_text()
    assert old in text
    # Keep the delimiters around the replaced cell.
    new = old.replace(old.strip("\t").split("\t")[0], f"{SECRET}_{SECRET}_!", 1)
    path.write_text(text.replace(old, new, 1))
    message = hartwig_error(folder)
    assert message.startswith(f"{folder}/*{suffix}, {where}: "), message


def test_a_missing_required_file_or_column_is_named(tmp_path: Path) -> None:
    folder = hartwig_folder(tmp_path)
    catalogue = folder / "S01T.purple.driver.catalog.somatic.tsv"
    catalogue.write_text(catalogue.read_text().replace("driverLikelihood", "dl"))
    assert "no 'driverLikelihood' column" in hartwig_error(folder)
    catalogue.unlink()
    message = hartwig_error(folder)
    assert message.startswith(f"{folder}/*.purple.driver.catalog.somatic.tsv")
    assert "no such file" in message


def test_two_samples_or_a_file_of_another_sample_are_refused(tmp_path: Path) -> None:
    folder = hartwig_folder(tmp_path)
    shutil.copy(folder / "S01T.linx.fusion.tsv", folder / "linx-S02T.linx.fusion.tsv")
    assert "2 files match" in hartwig_error(folder)
    (folder / "S01T.linx.fusion.tsv").unlink()
    assert "names another sample" in hartwig_error(folder)


# --- profile tables ----------------------------------------------------------------

_HEADER = (
    "sample_id,tumour_type,kind,gene,protein_change,partner_gene,tmb_mut_per_mb,"
    "msi_high,hrd_score\n"
)


def read_csv(tmp_path: Path, text: str) -> list[Profile]:
    path = tmp_path / "profiles.csv"
    path.write_text(text)
    return list(read_profile_table(path, delimiter=","))


def csv_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileFileError) as error:
        read_csv(tmp_path, text)
    message = str(error.value)
    assert SECRET not in message
    return message.removeprefix(f"{tmp_path / 'profiles.csv'}, ")


def test_csv_tsv_and_jsonl_fixtures_hold_the_same_profiles() -> None:
    csv = list(read_profile_table(FIXTURES / "profiles.csv", delimiter=","))
    tsv = list(read_profile_table(FIXTURES / "profiles.tsv", delimiter="\t"))
    assert csv == tsv == list(read_profile_jsonl(FIXTURES / "profiles.jsonl"))
    assert [p.sample_id for p in csv] == ["T1", "T2", "T3", "T4"]
    assert csv[3].alterations == ()  # an empty kind: a sample without alterations


def test_columns_may_come_in_any_order_and_optional_ones_may_be_absent(
    tmp_path: Path,
) -> None:
    [profile] = read_csv(
        tmp_path, "gene,kind,tumour_type,sample_id\nKRAS,mutation,colon,s1\n"
    )
    assert profile == Profile(
        sample_id="s1",
        tumour_type="colon",
        alterations=(Alteration(kind="mutation", gene="KRAS"),),
    )


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers(tmp_path: Path) -> None:
    text = (
        _HEADER + 's1,"mel\nanoma",mutation,BRAF,,,,,\ns2,x,mutation,BRAF,,,,maybe,\n'
    )
    assert csv_error(tmp_path, text).startswith("line 4, column 8 (msi_high)")


@pytest.mark.parametrize(
    ("rows", "where", "problem"),
    [
        (f"s1,x,mutation,BRAF,,,,{SECRET},\n", "line 2, column 8 (msi_high)",
         "must be true or false"),
        (f"s1,x,mutation,BRAF,,,{SECRET},,\n", "line 2, column 7 (tmb_mut_per_mb)",
         "finite number"),
        ("s1,x,mutation,BRAF,,,inf,,\n", "line 2, column 7 (tmb_mut_per_mb)",
         "finite number"),
        ("s1,x,mutation,BRAF,,,20000,,\n", "line 2, column 7 (tmb_mut_per_mb)",
         "less than or equal to 10000"),
        (f"s1,x,{SECRET},BRAF,,,,,\n", "line 2, column 3 (kind)", "Input should be"),
        (f"s1,x,mutation,BRAF,{SECRET},,,,\n", "line 2, column 5 (protein_change)",
         "HGVS"),
        ("s1,x,mutation,BRAF,,ABL1,,,\n", "line 2, column 6 (partner_gene)",
         "only accepted for kind 'fusion'"),
        ("s1,x,mutation,,,,,,\n", "line 2, column 4 (gene)", "required"),
        (",x,mutation,BRAF,,,,,\n", "line 2, column 1 (sample_id)", "empty"),
        ("s1,x,mutation,BRAF,,,1,,\ns1,x,mutation,KRAS,,,2,,\n",
         "line 3, column 7 (tmb_mut_per_mb)", "differs from the value on line 2"),
        ("s1,x,mutation,BRAF,,,,,\ns1,y,mutation,KRAS,,,,,\n",
         "line 3, column 2 (tumour_type)", "differs"),
        ("s1,x,mutation,BRAF,,,,,\ns2,x,,,,,,,\ns1,x,mutation,KRAS,,,,,\n",
         "line 4, column 1 (sample_id)", "not adjacent"),
        (f"s1,x,mutation,BRAF,,,,,,{SECRET}\n", "line 2", "10 fields, the header 9"),
    ],
)  # fmt: skip
def test_a_bad_row_is_named_by_line_and_column(
    tmp_path: Path, rows: str, where: str, problem: str
) -> None:
    message = csv_error(tmp_path, _HEADER + rows)
    assert message.startswith(where), message
    assert problem in message


def test_an_unknown_column_is_named_by_number_only(tmp_path: Path) -> None:
    # A file without its header would otherwise print its first row.
    message = csv_error(tmp_path, f"sample_id,tumour_type,{SECRET},kind,gene\n")
    assert message.startswith("line 1, column 3: unknown column name; accepted:")
    assert "no 'gene' column" in csv_error(tmp_path, "sample_id,tumour_type,kind\n")


# --- JSON and JSON Lines -------------------------------------------------------------


def json_error(text: str) -> str:
    with pytest.raises(ProfileFileError) as error:
        list(read_profile_json_text(text, file="f.json"))
    message = str(error.value)
    assert SECRET not in message
    return message


def test_a_json_list_names_the_line_its_bad_profile_starts_on() -> None:
    text = (
        '[\n  {"tumour_type": "melanoma"},\n'
        f'  {{"tumour_type": "melanoma",\n   "msi_high": "{SECRET}"}}\n]\n'
    )
    assert json_error(text) == (
        "f.json, line 3, field msi_high: Input should be a valid boolean"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[{"tumour_type": "x"},]', "line 1, column 23: not valid JSON"),
        ('[{"tumour_type": "x"}] []', "line 1, column 24: not valid JSON: Extra"),
        (f'[{{"tumour_type": "x"}}\n{{"a": "{SECRET}"}}]', "line 2, column 1"),
        ("[1]", "line 1: a profile must be a JSON object"),
    ],
)
def test_malformed_json_is_named_by_line_and_column(text: str, where: str) -> None:
    assert json_error(text).startswith(f"f.json, {where}")


def test_json_one_profile_or_a_list_or_none() -> None:
    one = list(read_profile_json_text('{"tumour_type": "x"}', file="f"))
    assert one == [Profile(tumour_type="x")]
    assert list(read_profile_json_text(" [ ]\n", file="f")) == []


def test_jsonl_skips_blank_lines_and_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"tumour_type": "x"}\n\n'
        f'{{"tumour_type": "x", "alterations": [{{"kind": "{SECRET}"}}]}}\n'
    )
    with pytest.raises(ProfileFileError) as error:
        list(read_profile_jsonl(path))
    assert str(error.value).startswith(f"{path}, line 3, field alterations.0.kind")
    assert SECRET not in str(error.value)
