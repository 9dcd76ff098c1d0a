"""GDSC1000 (release v17) cell lines as a cohort.

The binary event matrix maps onto the profile schema: ``<GENE>_mut`` -> mutation,
``A-B_mut`` -> fusion of A and B (``X`` = unknown partner), ``gain_cnaPANCAN<N>`` ->
amplification and ``loss_cnaPANCAN<N>`` -> deletion of the region's driver genes,
``MSI_FACTOR`` -> ``msi_high``. Responders are called from ln(IC50) per drug.

Files (the repository ships them: ``data/gdsc1000_v17/README.md``) and what happens
without them:

- ``ic50_v17.csv.gz``, ``genomic_features_v17.csv.gz``,
  ``cell_lines_cosmic_info.csv.gz``: required.
- ``drug_list_gdsc_2019.csv`` (drug names): without it the 11 names in gdsctools'
  ``DRUG_DECODE.csv``, saved as ``drug_decode_gdsctools.csv``, are used if present.
- ``drug_ic50_thresholds_deepcdr.tsv``: without it every drug is labelled by z-score.
- ``cna_region_annotations.csv.gz``: without it driver genes are read from the column
  names (same content for v17: the names list ``KnownDrivers_Extended``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from features import Alteration, AlterationKind, Profile, canonical_tumour_type
from training.data._cohort import Cohort

logger = logging.getLogger(__name__)

IC50_FILE = "ic50_v17.csv.gz"
FEATURES_FILE = "genomic_features_v17.csv.gz"
COSMIC_INFO_FILE = "cell_lines_cosmic_info.csv.gz"
DRUG_LIST_FILE = "drug_list_gdsc_2019.csv"
DRUG_DECODE_FILE = "drug_decode_gdsctools.csv"
THRESHOLDS_FILE = "drug_ic50_thresholds_deepcdr.tsv"
CNA_REGIONS_FILE = "cna_region_annotations.csv.gz"
OMNIBEM_FILE = "alterations_long_omnibem.csv.gz"

LabelRule = Literal["threshold", "zscore"]
UnnamedDrugs = Literal["skip", "keep_id"]

_DRUG_COLUMN = re.compile(r"^Drug_(\d+)_IC50$")
_CNA_COLUMN = re.compile(r"^(gain|loss)_cnaPANCAN\d+")
_CNA_REGION = re.compile(r"cnaPANCAN\d+")
_CNA_GENES = re.compile(r"\(([^)]*)\)\s*$")
_GENE_ALIASES = {"ABL": "ABL1"}  # GDSC writes the BCR-ABL fusion partner as ABL
_HYPHENATED_GENES = re.compile(r"^HLA-")  # HLA-A_mut is a gene, not a fusion
# The column-name gene lists equal KnownDrivers_Extended; KnownDrivers alone leaves
# e.g. CCND1 out of the 11q13 amplicon and FGFR1 out of 8p12.
_DRIVER_FIELD = "KnownDrivers_Extended"
_PROFILE_FIELD_COLUMNS = {
    "tumour_type": "GDSC2/TISSUE_FACTOR",
    "msi_high": "MSI_FACTOR",
}


@dataclass(frozen=True)
class GdscTables:
    """The GDSC input tables, read and shape-checked, before any mapping."""

    ic50: pd.DataFrame
    features: pd.DataFrame
    cosmic_info: pd.DataFrame
    drug_names: pd.DataFrame  # drug_id (int), drug (lower-case name)
    thresholds: pd.DataFrame | None  # drug_id, threshold_ln_ic50
    cna_regions: pd.DataFrame | None  # cna_feature_id, drivers


def load_gdsc(
    folder: Path,
    *,
    label_rule: LabelRule = "threshold",
    zscore_cutoff: float = -1.0,
    unnamed_drugs: UnnamedDrugs = "skip",
) -> Cohort:
    """Load GDSC1000 v17 as a cohort of cell-line profiles and drug responses.

    Parameters
    ----------
    folder
        Folder with the GDSC files (``data/gdsc1000_v17``, or its copy that
        `fetch_dataset` puts in the cache).
    label_rule
        ``"threshold"``: responded = ln(IC50) below the drug's DeepCDR threshold,
        z-score rule for drugs without one; ``"zscore"``: z-score rule for all.
    zscore_cutoff
        Per-drug z-score of ln(IC50) below which a line counts as a responder.
    unnamed_drugs
        Drug ids with no name: ``"skip"`` them, or ``"keep_id"`` as
        ``gdsc_drug_<id>`` (useful when only gdsctools' 11-drug decode file exists).

    Returns
    -------
    Cohort
        Treatments carry ``drug_id``, ``ln_ic50`` and the ``label_rule`` used.
    """
    started = time.perf_counter()
    tables = read_gdsc_tables(folder)
    drivers = None if tables.cna_regions is None else cna_drivers(tables.cna_regions)
    column_events = map_feature_columns(
        _feature_columns(tables.features), drivers=drivers
    )
    tumour_types = resolve_tumour_types(tables.features, tables.cosmic_info)
    profiles = build_profiles(tables.features, column_events, tumour_types)
    treatments = long_treatments(tables.ic50)
    treatments = name_drugs(treatments, tables.drug_names, unnamed=unnamed_drugs)
    treatments = drop_repeat_screens(treatments)
    treatments = label_responders(
        treatments, tables.thresholds, rule=label_rule, zscore_cutoff=zscore_cutoff
    )
    cohort = Cohort(
        profiles=profiles, treatments=treatments, population="cell_line",
        endpoint="ic50_sensitivity",
    )  # fmt: skip
    logger.info(
        "GDSC v17: %s, label rules %s (%.1f s)",
        cohort.describe(),
        treatments.groupby("label_rule")["drug"].nunique().to_dict(),
        time.perf_counter() - started,
    )
    return cohort


# --- reading: the only part that touches files -------------------------------------


def read_gdsc_tables(folder: Path) -> GdscTables:
    """Read the GDSC files in `folder`, failing with the file and problem named."""
    ic50 = _read(folder / IC50_FILE, ["COSMIC_ID"], id_column="COSMIC_ID")
    features = _read(
        folder / FEATURES_FILE,
        ["COSMIC_ID", "TISSUE_FACTOR", "MSI_FACTOR"],
        id_column="COSMIC_ID",
    )
    _check_ic50_columns(ic50, folder / IC50_FILE)
    _check_feature_columns(features, folder / FEATURES_FILE)
    cosmic_info = _read(
        folder / COSMIC_INFO_FILE, ["COSMIC_ID", "GDSC2"], id_column="COSMIC_ID"
    )
    return GdscTables(
        ic50=ic50,
        features=features,
        cosmic_info=cosmic_info,
        drug_names=_read_drug_names(folder),
        thresholds=_read_thresholds(folder),
        cna_regions=_read_cna_regions(folder),
    )


def _read(
    path: Path, columns: Sequence[str], *, id_column: str, sep: str = ","
) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(
            f"{path}: file not found; `rediscover data fetch gdsc` puts the "
            "shipped files in the cache"
        )
    table = pd.read_csv(path, sep=sep)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path.name}: missing column(s) {missing}; "
            f"expected at least {list(columns)}"
        )
    if table.empty:
        raise ValueError(f"{path.name}: has no rows")
    ids = table[id_column]
    if ids.isna().any() or not pd.api.types.is_integer_dtype(ids):
        raise ValueError(
            f"{path.name}: column {id_column!r} must hold integer ids with no gaps; "
            f"found dtype {ids.dtype} with {int(ids.isna().sum())} missing"
        )
    if not ids.is_unique:
        raise ValueError(
            f"{path.name}: column {id_column!r} repeats {int(ids.duplicated().sum())} "
            "id(s); each id must appear once"
        )
    return table


def _check_ic50_columns(ic50: pd.DataFrame, path: Path) -> None:
    others = [c for c in ic50.columns if c != "COSMIC_ID"]
    bad = [c for c in others if not _DRUG_COLUMN.match(c)]
    if bad or not others:
        raise ValueError(
            f"{path.name}: expected columns 'Drug_<id>_IC50' besides COSMIC_ID; "
            f"found {bad[:3] or 'none'}"
        )


def _check_feature_columns(features: pd.DataFrame, path: Path) -> None:
    for column in _feature_columns(features):
        if not (column.endswith("_mut") or _CNA_COLUMN.match(column)):
            raise ValueError(
                f"{path.name}: column {column!r} is neither '<GENE>_mut' nor "
                "'gain_/loss_cnaPANCAN<N>'"
            )
        if not features[column].isin([0, 1]).all():
            raise ValueError(f"{path.name}: column {column!r} must hold only 0/1")
    if not features["MSI_FACTOR"].isin([0, 1]).all():
        raise ValueError(f"{path.name}: column 'MSI_FACTOR' must hold only 0/1")


def _read_drug_names(folder: Path) -> pd.DataFrame:
    if (folder / DRUG_LIST_FILE).is_file():
        table = _read(folder / DRUG_LIST_FILE, ["drug_id", "Name"], id_column="drug_id")
        ids, names = table["drug_id"], table["Name"]
    else:
        logger.warning(
            "%s not found; naming drugs from gdsctools' %s (11 drugs only)",
            DRUG_LIST_FILE,
            DRUG_DECODE_FILE,
        )
        path = folder / DRUG_DECODE_FILE
        table = _read_decode(path)
        ids, names = table["DRUG_ID"], table["DRUG_NAME"]
    named = pd.DataFrame(
        {"drug_id": ids.astype("int64"), "drug": names.str.strip().str.lower()}
    )
    return named.dropna().drop_duplicates("drug_id")


def _read_decode(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(
            f"{path.parent}: neither {DRUG_LIST_FILE} nor {DRUG_DECODE_FILE} found; "
            "drug names are needed; `rediscover data fetch gdsc` provides them"
        )
    table = pd.read_csv(path)
    missing = [c for c in ("DRUG_ID", "DRUG_NAME") if c not in table.columns]
    if missing or table.empty:
        raise ValueError(f"{path.name}: missing column(s) {missing} or no rows")
    ids = table["DRUG_ID"].astype(str).str.extract(r"(\d+)", expand=False)
    if ids.isna().any():
        raise ValueError(f"{path.name}: column 'DRUG_ID' must hold 'Drug_<id>_IC50'")
    return table.assign(DRUG_ID=ids.astype("int64"))


def _read_thresholds(folder: Path) -> pd.DataFrame | None:
    path = folder / THRESHOLDS_FILE
    if not path.is_file():
        logger.warning("%s not found; every drug is labelled by z-score", path.name)
        return None
    table = _read(path, ["DrugID", "IC50"], id_column="DrugID", sep="\t")
    if not pd.api.types.is_float_dtype(table["IC50"]):
        raise ValueError(f"{path.name}: column 'IC50' must hold ln(IC50) numbers")
    return pd.DataFrame(
        {"drug_id": table["DrugID"], "threshold_ln_ic50": table["IC50"]}
    ).dropna()


def _read_cna_regions(folder: Path) -> pd.DataFrame | None:
    path = folder / CNA_REGIONS_FILE
    if not path.is_file():
        logger.info("%s not found; CNA driver genes read from column names", path.name)
        return None
    table = pd.read_csv(path)
    missing = [c for c in ("cna_feature_id", _DRIVER_FIELD) if c not in table.columns]
    if missing or table.empty:
        raise ValueError(f"{path.name}: missing column(s) {missing} or no rows")
    return table.rename(columns={_DRIVER_FIELD: "drivers"})[
        ["cna_feature_id", "drivers"]
    ]


def _feature_columns(features: pd.DataFrame) -> list[str]:
    return [
        c
        for c in features.columns
        if c not in {"COSMIC_ID", "TISSUE_FACTOR", "MSI_FACTOR"}
    ]


# --- profiles -------------------------------------------------------------------------


def cna_drivers(regions: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Region id (``cnaPANCAN<N>``) -> its driver genes, from the annotation table."""
    drivers: dict[str, tuple[str, ...]] = {}
    for region, genes in zip(
        regions["cna_feature_id"], regions["drivers"], strict=True
    ):
        names = str(genes).split(",") if isinstance(genes, str) else []
        drivers[str(region)] = tuple(g.strip() for g in names if g.strip())
    return drivers


def map_feature_columns(
    columns: Sequence[str], *, drivers: Mapping[str, tuple[str, ...]] | None
) -> dict[str, tuple[Alteration, ...]]:
    """Alterations that a 1 in each binary feature column stands for.

    Parameters
    ----------
    columns
        Feature column names (``<GENE>_mut``, ``A-B_mut``, ``gain_/loss_cnaPANCAN..``).
    drivers
        Region id -> driver genes; None reads the genes listed in the column name.
    """
    mapped: dict[str, tuple[Alteration, ...]] = {}
    for column in columns:
        try:
            if column.endswith("_mut"):
                mapped[column] = (_mutation_event(column.removesuffix("_mut")),)
            else:
                mapped[column] = _cna_events(column, drivers)
        except ValidationError as exc:
            raise ValueError(
                f"{FEATURES_FILE}: column {column!r} does not map to a valid "
                f"alteration: {exc.errors()[0]['msg']}"
            ) from exc
    _log_mapping(mapped)
    return mapped


def _mutation_event(name: str) -> Alteration:
    if "-" not in name or _HYPHENATED_GENES.match(name):
        return Alteration(kind="mutation", gene=name)
    gene, partner = (_GENE_ALIASES.get(g, g) for g in name.split("-", 1))
    return Alteration(
        kind="fusion", gene=gene, partner_gene=None if partner == "X" else partner
    )


def _cna_events(
    column: str, drivers: Mapping[str, tuple[str, ...]] | None
) -> tuple[Alteration, ...]:
    kind: AlterationKind = "amplification" if column.startswith("gain_") else "deletion"
    regions = _CNA_REGION.findall(column)
    if drivers is not None and all(r in drivers for r in regions):
        genes = {g for r in regions for g in drivers[r]}
    else:
        if drivers is not None:
            logger.info("%s: region not annotated; genes from column name", column)
        listed = _CNA_GENES.search(column)
        genes = set(listed.group(1).split(",")) if listed else set()
    return tuple(
        Alteration(kind=kind, gene=g.strip()) for g in sorted(genes) if g.strip()
    )


def _log_mapping(mapped: Mapping[str, tuple[Alteration, ...]]) -> None:
    kinds = pd.Series(
        [events[0].kind if events else "none" for events in mapped.values()]
    ).value_counts()
    logger.info(
        "feature columns mapped by kind: %s (no known driver gene: %d columns, "
        "no alteration made)",
        {k: int(v) for k, v in kinds.items() if k != "none"},
        int(kinds.get("none", 0)),
    )


def resolve_tumour_types(
    features: pd.DataFrame, cosmic_info: pd.DataFrame
) -> pd.Series:
    """Canonical tumour type per COSMIC_ID: fine GDSC2 site, else TISSUE_FACTOR."""
    fine = cosmic_info.drop_duplicates("COSMIC_ID").set_index("COSMIC_ID")["GDSC2"]
    site = features["COSMIC_ID"].map(fine)
    n_fallback = int(site.isna().sum())
    if n_fallback:
        logger.info("%d lines have no GDSC2 site; using TISSUE_FACTOR", n_fallback)
    site = site.fillna(features["TISSUE_FACTOR"])
    return pd.Series(
        [canonical_tumour_type(str(s)) if pd.notna(s) else "" for s in site],
        index=features["COSMIC_ID"].to_numpy(),
        name="tumour_type",
    )


def build_profiles(
    features: pd.DataFrame,
    column_events: Mapping[str, tuple[Alteration, ...]],
    tumour_types: pd.Series,
) -> tuple[Profile, ...]:
    """One profile per row of the event matrix, alterations deduplicated and sorted."""
    columns = list(column_events)
    flags = features[columns].to_numpy(dtype=bool)
    profiles = []
    for row, cosmic_id in enumerate(features["COSMIC_ID"]):
        events = {
            e for i in np.flatnonzero(flags[row]) for e in column_events[columns[i]]
        }
        try:
            profile = Profile(
                sample_id=str(cosmic_id),
                tumour_type=tumour_types[cosmic_id],
                alterations=tuple(sorted(events, key=_event_key)),
                msi_high=bool(features["MSI_FACTOR"].iat[row]),
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "profile"
            raise ValueError(
                f"{FEATURES_FILE}: row {row} (COSMIC_ID {cosmic_id}), column "
                f"{_PROFILE_FIELD_COLUMNS.get(field, field)}: {error['msg']}"
            ) from exc
        profiles.append(profile)
    return tuple(profiles)


def _event_key(event: Alteration) -> tuple[str, str, str, str]:
    return (
        event.kind,
        event.gene,
        event.partner_gene or "",
        event.protein_change or "",
    )


# --- treatments and labels ---------------------------------------------------------


def long_treatments(ic50: pd.DataFrame) -> pd.DataFrame:
    """IC50 matrix -> one row per measured (cell line, drug id): sample_id, ln_ic50."""
    long = ic50.melt(id_vars="COSMIC_ID", var_name="column", value_name="ln_ic50")
    long = long.dropna(subset=["ln_ic50"])
    return pd.DataFrame(
        {
            "sample_id": long["COSMIC_ID"].astype(str),
            "drug_id": long["column"]
            .str.extract(_DRUG_COLUMN, expand=False)
            .astype("int64"),
            "ln_ic50": long["ln_ic50"].astype("float64"),
        }
    ).reset_index(drop=True)


def name_drugs(
    treatments: pd.DataFrame, drug_names: pd.DataFrame, *, unnamed: UnnamedDrugs
) -> pd.DataFrame:
    """Add the lower-case drug name; drug ids without one are skipped or kept by id."""
    named = treatments.merge(drug_names, on="drug_id", how="left", validate="m:1")
    missing = named["drug"].isna()
    n_ids = named.loc[missing, "drug_id"].nunique()
    if unnamed == "keep_id":
        ids = named.loc[missing, "drug_id"].astype(str)
        named.loc[missing, "drug"] = "gdsc_drug_" + ids
        logger.info("%d drug ids have no name; kept as gdsc_drug_<id>", n_ids)
    elif n_ids:
        named = named[~missing]
        logger.info(
            "%d drug ids have no name; their %d rows skipped", n_ids, missing.sum()
        )
    return named.reset_index(drop=True)


def drop_repeat_screens(treatments: pd.DataFrame) -> pd.DataFrame:
    """Keep one drug id per drug name: the screen with the most cell lines."""
    counts = (
        treatments.groupby(["drug", "drug_id"])["sample_id"].nunique().reset_index()
    )
    counts = counts.sort_values(
        ["drug", "sample_id", "drug_id"], ascending=[True, False, True]
    )
    kept = counts.drop_duplicates("drug")
    for drug, group in counts[counts["drug"].duplicated(keep=False)].groupby("drug"):
        screens = ", ".join(f"{i}: {n} lines" for i, n in group.iloc[:, 1:].to_numpy())
        logger.info(
            "%s screened twice (%s); keeping id %d",
            drug,
            screens,
            group["drug_id"].iat[0],
        )
    return treatments[treatments["drug_id"].isin(kept["drug_id"])].reset_index(
        drop=True
    )


def label_responders(
    treatments: pd.DataFrame,
    thresholds: pd.DataFrame | None,
    *,
    rule: LabelRule,
    zscore_cutoff: float,
) -> pd.DataFrame:
    """Add ``responded`` (0/1) and the ``label_rule`` each row's drug used.

    Parameters
    ----------
    treatments
        Rows with ``drug``, ``drug_id`` and ``ln_ic50``.
    thresholds
        ``drug_id`` -> ``threshold_ln_ic50``; None or missing ids use the z-score.
    rule
        ``"threshold"`` (z-score fallback) or ``"zscore"`` for every drug.
    zscore_cutoff
        Responder if (ln_ic50 - drug mean) / drug sd is below this.
    """
    if rule not in ("threshold", "zscore"):
        raise ValueError(f"label_rule must be 'threshold' or 'zscore', got {rule!r}")
    by_drug = treatments.groupby("drug")["ln_ic50"]
    # A drug measured once has no sd: z is NaN and the line counts as non-responder.
    zscore = (treatments["ln_ic50"] - by_drug.transform("mean")) / by_drug.transform(
        "std"
    )
    threshold = pd.Series(np.nan, index=treatments.index)
    if rule == "threshold" and thresholds is not None:
        lookup = thresholds.drop_duplicates("drug_id").set_index("drug_id")
        threshold = treatments["drug_id"].map(lookup["threshold_ln_ic50"])
    has_threshold = threshold.notna()
    responded = np.where(
        has_threshold, treatments["ln_ic50"] < threshold, zscore < zscore_cutoff
    )
    return treatments.assign(
        responded=responded.astype("int64"),
        label_rule=np.where(has_threshold, "threshold", "zscore"),
    )
