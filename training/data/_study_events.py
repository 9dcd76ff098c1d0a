"""Genomic events of a study: mutations, copy number and structural variants.

The rules are in `training.data._cbioportal`.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pandas as pd
from pydantic import ValidationError

from features import Alteration
from training.data._study_files import RejectionLog, StudyTables, Table, _column
from training.data._study_mapping import (
    CopyNumberColumns,
    MutationColumns,
    StructuralVariantColumns,
    StudyFormatError,
    StudyMapping,
)

_AMINO_ACIDS = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q",
    "Glu": "E", "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K",
    "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
    "Tyr": "Y", "Val": "V", "Ter": "*", "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_THREE_LETTER = re.compile("|".join(_AMINO_ACIDS))

# --- genomic events ----------------------------------------------------------------

_EVENT_COLUMNS = ["sample_id", "kind", "gene", "protein_change", "partner_gene"]


def protein_change_of(value: str | None) -> str | None:
    """Schema form of an HGVS protein change (``p.Val600Glu`` -> ``V600E``), or None."""
    if value is None:
        return None
    change = value.strip().removeprefix("p.")
    change = _THREE_LETTER.sub(lambda m: _AMINO_ACIDS[m.group(0)], change)
    try:
        return Alteration(
            kind="mutation", gene="X", protein_change=change
        ).protein_change
    except ValidationError:
        return None


def is_excluded_class(variant_class: str, excluded: Collection[str]) -> bool:
    """Whether a variant class is excluded (a compound ``a&b``: all its parts)."""
    parts = [p.strip().lower() for p in variant_class.split("&") if p.strip()]
    return bool(parts) and all(p in excluded for p in parts)


def _keep_valid_genes(
    table: Table, ok: pd.Series, genes: pd.Series, column: str, log: RejectionLog
) -> pd.Series:
    """Reject rows still ok whose gene the schema refuses; return the rows still ok."""
    errors: dict[str, str] = {}
    for gene in genes[ok].dropna().unique():
        try:
            Alteration(kind="mutation", gene=gene)
        except ValidationError as exc:
            errors[gene] = exc.errors()[0]["msg"].removeprefix("Value error, ")
    reasons = genes.map(errors)
    for reason in reasons[ok].dropna().unique():
        ok = log.keep(table, ok, reasons == reason, column, f"gene {reason}")
    return ok


def _first_seen(table: Table, samples: pd.Series) -> pd.DataFrame:
    """Each sample's first row: sample_id, file, line, column (of the sample id)
    and its 1-based number."""
    present = samples.notna().to_numpy()
    seen = pd.DataFrame(
        {"sample_id": samples[present].to_numpy(), "line": table.lines[present]}
    ).drop_duplicates("sample_id")
    number = list(table.frame.columns).index(str(samples.name)) + 1
    return seen.assign(file=table.name, column=str(samples.name), column_number=number)


def mutation_events(
    table: Table, spec: MutationColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Events, samples seen (first line) and kept mutation rows per sample."""
    sample_col = _column(table, spec, "sample", required=True)
    gene_col = _column(table, spec, "gene", required=True)
    class_col = _column(table, spec, "variant_class")
    protein_col = _column(table, spec, "protein_change")
    frame = table.frame
    assert sample_col is not None and gene_col is not None
    log.counts["mutations.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    if class_col is not None:
        classes = frame[class_col]
        ok = log.keep(table, ok, classes.isna(), class_col, "empty variant class")
        excluded_set = {c.lower() for c in spec.excluded_classes}
        excluded = ok & classes.map(
            lambda c: c is not None and is_excluded_class(c, excluded_set)
        ).astype(bool)
        for name, n in classes[excluded].value_counts().items():
            log.counts[f"mutations.excluded.{name}"] += int(n)
        log.counts["mutations.excluded"] += int(excluded.sum())
        ok &= ~excluded
    # MAF writes 'Unknown' for a variant outside any gene.
    genes = frame[gene_col].where(frame[gene_col].str.upper() != "UNKNOWN")
    ok = log.keep(table, ok, genes.isna(), gene_col, "empty gene")
    ok = _keep_valid_genes(table, ok, genes, gene_col, log)
    kept = frame[ok]
    raw_changes = (
        kept[protein_col] if protein_col else pd.Series(None, index=kept.index)
    )
    changes = raw_changes.map(
        {v: protein_change_of(v) for v in raw_changes.dropna().unique()}
    )
    log.counts["mutations.kept"] += len(kept)
    log.counts["mutations.without_protein_change"] += int(changes.isna().sum())
    events = pd.DataFrame(
        {
            "sample_id": kept[sample_col],
            "kind": "mutation",
            "gene": kept[gene_col].str.upper(),
            "protein_change": changes.astype(object).where(changes.notna(), None),
            "partner_gene": None,
        }
    )
    seen = _first_seen(table, frame[sample_col])
    rows_per_sample = kept[sample_col].value_counts().reindex(seen["sample_id"])
    return events, seen, rows_per_sample.fillna(0).astype("int64")


def copy_number_events(
    table: Table, spec: CopyNumberColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Amplification / deletion events and the samples (columns) profiled."""
    gene_col = _column(table, spec, "gene", required=True)
    assert gene_col is not None
    frame = table.frame
    samples = [
        c for c in frame.columns if c != gene_col and c not in spec.other_columns
    ]
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[gene_col].isna(), gene_col, "empty gene")
    ok = _keep_valid_genes(table, ok, frame[gene_col], gene_col, log)
    cells = frame.loc[ok, samples]
    values = cells.apply(pd.to_numeric, errors="coerce")
    not_numeric = cells.notna() & values.isna()
    for sample in not_numeric.columns[not_numeric.any()]:
        bad = not_numeric[sample].reindex(frame.index, fill_value=False)
        log.reject(
            table, bad, sample, "copy number is not a number; cell ignored",
            name_column=False,
        )  # fmt: skip
    genes = frame.loc[ok, gene_col].str.upper()
    events = []
    for kind, codes in (
        ("amplification", spec.amplification),
        ("deletion", spec.deletion),
    ):
        hits = values.isin(codes).to_numpy()
        rows, columns = np.nonzero(hits)
        log.counts[f"copy_number.{kind}s"] += len(rows)
        events.append(
            pd.DataFrame(
                {
                    "sample_id": np.asarray(samples, dtype=object)[columns],
                    "kind": kind,
                    "gene": genes.to_numpy()[rows],
                    "protein_change": None,
                    "partner_gene": None,
                }
            )
        )
    seen = pd.DataFrame(
        {
            "sample_id": samples,
            "line": table.header_line,
            "file": table.name,
            "column": None,  # named by a sample id: rejections give its number
            "column_number": [list(frame.columns).index(s) + 1 for s in samples],
        }
    )
    return pd.concat(events, ignore_index=True), seen


def fusion_events(
    table: Table, spec: StructuralVariantColumns, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fusion events from structural variants, and the samples seen."""
    sample_col = _column(table, spec, "sample", required=True)
    site1 = _column(table, spec, "gene", required=True)
    site2 = _column(table, spec, "partner_gene", required=True)
    assert sample_col is not None and site1 is not None and site2 is not None
    frame = table.frame
    log.counts["structural_variants.rows"] += len(frame)
    ok = pd.Series(True, index=frame.index)
    ok = log.keep(table, ok, frame[sample_col].isna(), sample_col, "empty sample id")
    gene, partner = frame[site1].str.upper(), frame[site2].str.upper()
    neither = gene.isna() & partner.isna()
    ok = log.keep(table, ok, neither, site1, "neither gene of the event is given")
    ok = _keep_valid_genes(table, ok, gene, site1, log)
    ok = _keep_valid_genes(table, ok, partner, site2, log)
    intragenic = ok & (gene == partner)
    log.counts["structural_variants.intragenic"] += int(intragenic.sum())
    ok &= ~intragenic
    five_prime = gene.where(gene.notna(), partner)
    three_prime = partner.where(gene.notna() & (partner != gene), None)
    log.counts["structural_variants.fusions"] += int(ok.sum())
    events = pd.DataFrame(
        {
            "sample_id": frame.loc[ok, sample_col],
            "kind": "fusion",
            "gene": five_prime[ok],
            "protein_change": None,
            "partner_gene": three_prime[ok],
        }
    )
    return events, _first_seen(table, frame[sample_col])


def genomic_events(
    tables: StudyTables, mapping: StudyMapping, log: RejectionLog
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Every genomic event of the study's tables (mutations, copy number,
    structural variants), the samples each table has, and the mutation table's
    row of each mutation event; at least one genomic table is required."""
    events, seen = [pd.DataFrame(columns=_EVENT_COLUMNS)], []
    mutation_rows = pd.Series(dtype="int64")
    if tables.mutations is not None:
        found, samples, mutation_rows = mutation_events(
            tables.mutations, mapping.mutations, log
        )
        events.append(found)
        seen.append(samples)
    if tables.copy_number is not None:
        found, samples = copy_number_events(
            tables.copy_number, mapping.copy_number, log
        )
        events.append(found)
        seen.append(samples)
    if tables.structural_variants is not None:
        found, samples = fusion_events(
            tables.structural_variants, mapping.structural_variants, log
        )
        events.append(found)
        seen.append(samples)
    if not seen:
        raise StudyFormatError(
            "no mutation, copy-number or structural-variant table found; "
            "at least one genomic table is required"
        )
    everything = pd.concat([e for e in events if len(e)] or events, ignore_index=True)
    all_seen = pd.concat(seen, ignore_index=True)
    log.counts["samples.genomic"] = all_seen["sample_id"].nunique()
    return everything, all_seen, mutation_rows
