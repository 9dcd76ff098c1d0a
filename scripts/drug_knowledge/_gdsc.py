"""Entry fields from the GDSC drug list; GDSC target descriptions as HGNC symbols."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

GDSC_SOURCE = "GDSC drug list 2019"
GDSC_COLUMNS = ("drug_id", "Name", "Synonyms", "Targets", "Target pathway")

# GDSC target descriptions -> HGNC symbols; () = names no single gene.
TARGET_ALIASES: dict[str, tuple[str, ...]] = {
    "ABL": ("ABL1",), "ABL(T315I)": ("ABL1",), "BCR-ABL": ("ABL1",),
    "ADCK4": ("COQ8B",), "ALK4": ("ACVR1B",), "ALK5": ("TGFBR1",),
    "Angiopoietin-1 receptor": ("TEK",), "TIE2": ("TEK",),
    "BCL-W": ("BCL2L2",), "BCL-XL": ("BCL2L1",),
    "BET": ("BRD2", "BRD3", "BRD4", "BRDT"),
    "c-FGR": ("FGR",), "DNAPK": ("PRKDC",), "EIF2A": ("EIF2S1",),
    "Dihydrofolate reductase (DHFR)": ("DHFR",),
    "Endothelin-1 receptor (EDNRA)": ("EDNRA",),
    "Farnesyl-transferase (FNTA)": ("FNTA",),
    "ERK1": ("MAPK3",), "ERK2": ("MAPK1",), "ERK5": ("MAPK7",),
    "FAK": ("PTK2",), "FAK2": ("PTK2B",), "FXR": ("NR1H4",), "LXR": ("NR1H3", "NR1H2"),
    "G9a and GLP methyltransferases": ("EHMT2", "EHMT1"),
    "HSP90": ("HSP90AA1", "HSP90AB1"), "IR": ("INSR",),
    "IKK1": ("CHUK",), "IKK2": ("IKBKB",), "IKKB": ("IKBKB",),
    "JNK": ("MAPK8", "MAPK9", "MAPK10"), "JNK1": ("MAPK8",), "JNK2": ("MAPK9",),
    "JNK3": ("MAPK10",), "KSP": ("KIF11",), "LOK": ("STK10",),
    "MEK1": ("MAP2K1",), "MEK2": ("MAP2K2",), "MEK5": ("MAP2K5",),
    "MPS1": ("TTK",), "MTORC1": ("MTOR",), "MTORC2": ("MTOR",), "NAE": ("NAE1",),
    "N-myristoyltransferase 1/2": ("NMT1", "NMT2"),
    "p38": ("MAPK14", "MAPK11", "MAPK12", "MAPK13"), "p38alpha": ("MAPK14",),
    "p38beta": ("MAPK11",), "PB1": ("PBRM1",), "PDK1 (PDPK1)": ("PDPK1",),
    "PDGFR": ("PDGFRA", "PDGFRB"),
    "PI3K (class 1)": ("PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG"),
    "PI3K (Class 1)": ("PIK3CA", "PIK3CB", "PIK3CD", "PIK3CG"),
    "PI3Kalpha": ("PIK3CA",), "PI3Kbeta": ("PIK3CB",), "PI3Kdelta": ("PIK3CD",),
    "PI3Kgamma": ("PIK3CG",), "PKCB": ("PRKCB",), "PPARdelta": ("PPARD",),
    "PPARgamma": ("PPARG",), "Procaspase-3": ("CASP3",), "Procaspase-7": ("CASP7",),
    "RAF": ("RAF1", "BRAF"), "RNA helicase A": ("DHX9",), "ROCK": ("ROCK1", "ROCK2"),
    "RON": ("MST1R",), "RSK2": ("RPS6KA3",), "S6K1": ("RPS6KB1",),
    "SHP-1 (PTPN6)": ("PTPN6",), "SHP-2 (PTPN11)": ("PTPN11",),
    "TAK": ("MAP3K7",), "TAK1": ("MAP3K7",), "TNKS1": ("TNKS",), "TOP2": ("TOP2A",),
    "VEGFR": ("FLT1", "KDR", "FLT4"), "VEGFR1": ("FLT1",), "VEGFR2": ("KDR",),
    "VEGFR3": ("FLT4",), "VEGFR3/FLT4": ("FLT4",),
    # gene-shaped, but families or unknown: no single HGNC symbol
    "CAMK2": (), "HDAC": (), "IKK": (), "IV": (), "PKC": (), "PPK": (), "RAR": (),
    "RSK": (), "SERCA": (), "TRCB": (),
}  # fmt: skip
_GENE_SHAPED = re.compile(r"^[A-Z][A-Z0-9]+$")


def split_names(text: object) -> list[str]:
    """Comma-separated names, stripped, blanks and repeats dropped, order kept."""
    if not isinstance(text, str):
        return []
    names = (name.strip() for name in text.split(","))
    return list(dict.fromkeys(name for name in names if name))


def map_targets(description: object) -> tuple[list[str], list[str]]:
    """HGNC symbols named by a GDSC target description, and the unmapped parts."""
    genes: list[str] = []
    unmapped: list[str] = []
    for token in split_names(description):
        mapped = TARGET_ALIASES.get(token)
        if mapped is None and _GENE_SHAPED.match(token):
            mapped = (token,)
        genes.extend(mapped or ())
        if not mapped:
            unmapped.append(token)
    return list(dict.fromkeys(genes)), unmapped


def gdsc_entries(drugs: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Entry fields per lower-case GDSC name; repeated screens are merged."""
    entries: dict[str, dict[str, Any]] = {}
    for row in drugs.sort_values("drug_id", kind="stable").to_dict("records"):
        name = str(row["Name"]).strip()
        targets, unmapped = map_targets(row["Targets"])
        pathway = str(row["Target pathway"]).strip()
        entry = entries.setdefault(
            name.lower(),
            {
                "synonyms": [],
                "targets": targets,
                "unmapped_targets": unmapped,
                "pathway": pathway,
                "gdsc_drug_ids": [],
                "sources": [GDSC_SOURCE],
            },
        )
        entry["synonyms"] += split_names(row["Synonyms"])
        entry["gdsc_drug_ids"].append(int(row["drug_id"]))
        if entry["pathway"] == "Unclassified":
            entry["pathway"] = pathway
    return entries
