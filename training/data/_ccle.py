"""CCLE 2012 (Barretina et al.) activity areas as a cohort of GDSC-profiled lines.

The repository ships the folder: ``data/ccle2012_actarea`` (see its README). Lines are
joined to GDSC through ``ccle_to_gdsc_cosmic_map.csv``, so each line's profile is
its GDSC v17 profile (sample id = COSMIC id, as in `load_gdsc`) and only the
response comes from CCLE: a different laboratory, assay and read-out.

Drugs are named by their GDSC name, lower-cased (``ccle_drugs.csv`` gives the GDSC
name of the 13 compounds matched by PubChem id); the other 11 compounds are skipped.

Responder call: CCLE reports activity area (area above the dose-response curve;
higher = more sensitive). Per drug, ActArea is standardised over every line the
file measured; a line responds when its z-score is above ``zscore_cutoff``
(default 1.0, i.e. about one line in seven, close to GDSC's ~12% responders).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from features import Profile
from training.data._cohort import Cohort

logger = logging.getLogger(__name__)

CCLE_FOLDER = "ccle2012_actarea"
RESPONSE_FILE = "ccle_response_actarea.csv.gz"
DRUGS_FILE = "ccle_drugs.csv"
CELL_LINE_MAP_FILE = "ccle_to_gdsc_cosmic_map.csv"
LABEL_RULE = "ccle_actarea_zscore"


def load_ccle(
    folder: Path, *, profiles: Sequence[Profile], zscore_cutoff: float = 1.0
) -> Cohort:
    """Load CCLE activity areas for the drugs GDSC also screened.

    Parameters
    ----------
    folder
        Folder with the CCLE files (``data/ccle2012_actarea`` or its cached copy).
    profiles
        GDSC profiles (sample id = COSMIC id), e.g. ``load_gdsc(...).profiles``;
        CCLE lines without one are dropped.
    zscore_cutoff
        Responder when the per-drug z-score of ActArea is above this.

    Returns
    -------
    Cohort
        The GDSC profiles of the measured lines; treatments carry ``act_area``,
        ``act_area_z``, ``pubchem`` and ``label_rule``.
    """
    folder = Path(folder)
    response = _read(folder / RESPONSE_FILE, ["DepMap_ID", "pubchem", "ActArea"])
    drugs = _read(folder / DRUGS_FILE, ["pubchem", "gdsc_name"])
    lines = _read(folder / CELL_LINE_MAP_FILE, ["DepMap_ID", "gdsc_cosmic_id"])
    treatments = label_ccle(response, zscore_cutoff=zscore_cutoff)
    treatments = _name_drugs(treatments, drugs)
    treatments = _to_cosmic_ids(treatments, lines, profiles)
    known = set(treatments["sample_id"])
    kept = tuple(p for p in profiles if p.sample_id in known)
    cohort = Cohort(
        profiles=kept, treatments=treatments, population="cell_line",
        endpoint="activity_area_sensitivity",
    )  # fmt: skip
    logger.info("CCLE on GDSC-profiled lines: %s", cohort.describe())
    return cohort


def label_ccle(response: pd.DataFrame, *, zscore_cutoff: float) -> pd.DataFrame:
    """Add ``act_area_z`` (per-drug z-score of ActArea) and ``responded``."""
    by_drug = response.groupby("pubchem")["ActArea"]
    z = (response["ActArea"] - by_drug.transform("mean")) / by_drug.transform("std")
    return response.assign(act_area_z=z, responded=(z > zscore_cutoff).astype("int64"))


def _read(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(
            f"{path}: file not found; the CCLE folder ({CCLE_FOLDER}) holds "
            f"{RESPONSE_FILE}, {DRUGS_FILE} and {CELL_LINE_MAP_FILE}"
        )
    table = pd.read_csv(path)
    missing = [c for c in columns if c not in table.columns]
    if missing or table.empty:
        raise ValueError(
            f"{path.name}: missing column(s) {missing} or no rows; expected at "
            f"least {list(columns)}"
        )
    return table


def _name_drugs(treatments: pd.DataFrame, drugs: pd.DataFrame) -> pd.DataFrame:
    named = drugs.dropna(subset=["gdsc_name"])
    names = pd.Series(
        named["gdsc_name"].str.strip().str.lower().to_numpy(), index=named["pubchem"]
    )
    out = treatments.assign(drug=treatments["pubchem"].map(names))
    logger.info(
        "CCLE: %d of %d compounds have a GDSC name; the others are skipped",
        len(names),
        treatments["pubchem"].nunique(),
    )
    return out.dropna(subset=["drug"])


def _to_cosmic_ids(
    treatments: pd.DataFrame, lines: pd.DataFrame, profiles: Sequence[Profile]
) -> pd.DataFrame:
    mapped = lines.dropna(subset=["gdsc_cosmic_id"])
    cosmic = pd.Series(
        mapped["gdsc_cosmic_id"].astype("int64").astype(str).to_numpy(),
        index=mapped["DepMap_ID"],
    )
    sample_id = treatments["DepMap_ID"].map(cosmic)
    profiled = sample_id.isin({p.sample_id for p in profiles})
    logger.info(
        "CCLE: %d of %d lines have a GDSC profile",
        treatments.loc[profiled, "DepMap_ID"].nunique(),
        treatments["DepMap_ID"].nunique(),
    )
    out = treatments.assign(sample_id=sample_id, label_rule=LABEL_RULE)[profiled]
    columns = ["sample_id", "drug", "responded", "act_area", "act_area_z", "pubchem"]
    return out.rename(columns={"ActArea": "act_area"})[
        [*columns, "label_rule"]
    ].reset_index(drop=True)
