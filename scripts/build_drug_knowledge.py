"""Build ``features/drug_knowledge.json`` from the GDSC drug list and CIViC evidence.

Run ``python scripts/build_drug_knowledge.py --civic FILE`` from the repository root:
the GDSC drug list ships in ``data/gdsc1000_v17``; the CIViC export (CC0, the
pharmOncoX release of 2022-06-02) is not shipped and is given with ``--civic``.
Rebuilding from the same inputs gives a byte-identical file.
The entries and matching-class rules are described in, and built by, the sibling
package ``scripts/drug_knowledge``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

# ``python scripts/build_drug_knowledge.py`` puts scripts/ on sys.path, loading this
# file by path (tests/features/test_knowledge.py) does not; both need the sibling
# package scripts/drug_knowledge.
_SCRIPTS = str(Path(__file__).resolve().parent)
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

from drug_knowledge import (  # noqa: E402
    CIVIC_COLUMNS,
    GDSC_COLUMNS,
    attach_civic,
    build_knowledge,
    civic_items,
    curated_rules,
    map_targets,
    render,
)

# Build steps stay importable from the script: tests/features/test_knowledge.py
# loads it as a module and calls them.
__all__ = [
    "attach_civic",
    "build_knowledge",
    "civic_items",
    "curated_rules",
    "main",
    "map_targets",
    "render",
]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GDSC = REPO / "data" / "gdsc1000_v17" / "drug_list_gdsc_2019.csv"
DEFAULT_OUT = REPO / "features" / "drug_knowledge.json"


def check_columns(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Raise a readable error when an input table lacks a column the build reads."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; found {list(frame.columns)}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gdsc-drug-list",
        type=Path,
        default=DEFAULT_GDSC,
        help="GDSC screened-compounds CSV (drug_id, Name, Synonyms, Targets, "
        "Target pathway); default: %(default)s",
    )
    parser.add_argument(
        "--civic",
        type=Path,
        required=True,
        help="CIViC evidence CSV(.gz) as exported from pharmOncoX "
        "(civic_evidence_via_pharmoncox_20220602.csv.gz)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON to write; default: %(default)s",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Read the inputs, build the table, write it; return the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    for option, path in (
        ("--gdsc-drug-list", args.gdsc_drug_list),
        ("--civic", args.civic),
    ):
        if not path.is_file():
            logger.error("%s: file not found: %s", option, path)
            return 2
    drugs = pd.read_csv(args.gdsc_drug_list)
    civic = pd.read_csv(args.civic, low_memory=False)
    try:
        check_columns(drugs, GDSC_COLUMNS, args.gdsc_drug_list)
        check_columns(civic, CIVIC_COLUMNS, args.civic)
    except ValueError as error:
        logger.error("%s", error)
        return 2
    knowledge = build_knowledge(drugs, civic)
    args.out.write_text(render(knowledge), encoding="utf-8")
    with_rules = sum(1 for entry in knowledge.entries.values() if entry.rules)
    logger.info(
        "wrote %s: %d drugs, %d with rules",
        args.out,
        len(knowledge.entries),
        with_rules,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
