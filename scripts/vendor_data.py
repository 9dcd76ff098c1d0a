"""Write the repository's ``data/`` sets from their source folders (a one-off step).

Run ``python scripts/vendor_data.py SOURCE`` from the repository root, SOURCE being
a folder holding ``gdsc1000_v17/`` and ``ccle2012_actarea/`` as described in each
``data/*/README.md``. Files the loaders read whole are copied byte for byte; the
others keep only the columns the loaders (and ``scripts/build_drug_knowledge.py``)
read, with every kept cell's text unchanged. Gzip output has no timestamp, so a
rerun writes identical bytes; it then prints each file's SHA-256, which must match
the pinned ones in ``training/data/_fetch.py`` and the READMEs.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

GDSC_DRUG_COLUMNS = ("drug_id", "Name", "Synonyms", "Targets", "Target pathway")
# set folder -> file -> columns kept (None: copied byte for byte)
PLAN: dict[str, dict[str, tuple[str, ...] | None]] = {
    "gdsc1000_v17": {
        "ic50_v17.csv.gz": None,
        "genomic_features_v17.csv.gz": None,
        "cell_lines_cosmic_info.csv.gz": ("COSMIC_ID", "GDSC2"),
        # drug_id and Name for load_gdsc; the rest for build_drug_knowledge.py
        "drug_list_gdsc_2019.csv": GDSC_DRUG_COLUMNS,
        "drug_ic50_thresholds_deepcdr.tsv": ("DrugID", "IC50"),
        "cna_region_annotations.csv.gz": ("cna_feature_id", "KnownDrivers_Extended"),
    },
    "ccle2012_actarea": {
        "ccle_response_actarea.csv.gz": ("DepMap_ID", "pubchem", "ActArea"),
        "ccle_drugs.csv": ("pubchem", "gdsc_name"),
        "ccle_to_gdsc_cosmic_map.csv": ("DepMap_ID", "gdsc_cosmic_id"),
    },
}


def keep_columns(text: str, columns: Sequence[str], *, delimiter: str) -> str:
    """The table in `text` with only `columns`, in that order, cells unchanged."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(rows)
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"missing column(s) {missing}; found {header}")
    index = [header.index(c) for c in columns]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row[i] for i in index] for row in rows)
    return out.getvalue()


def write_file(source: Path, target: Path, columns: Sequence[str] | None) -> None:
    """Copy `source` to `target`, keeping only `columns` when given."""
    if columns is None:
        shutil.copyfile(source, target)
        return
    zipped = source.name.endswith(".gz")
    raw = gzip.decompress(source.read_bytes()) if zipped else source.read_bytes()
    delimiter = "\t" if ".tsv" in source.name else ","
    data = keep_columns(raw.decode("utf-8"), columns, delimiter=delimiter).encode()
    # mtime=0 and no file name in the header: the same input gives the same bytes.
    if zipped:
        buffer = io.BytesIO()
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0
        ) as stream:
            stream.write(data)
        data = buffer.getvalue()
    target.write_bytes(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Write every planned file and print its SHA-256; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with the source sets")
    parser.add_argument(
        "--out", type=Path, default=REPO / "data", help="default: %(default)s"
    )
    args = parser.parse_args(argv)
    for folder, files in PLAN.items():
        (args.out / folder).mkdir(parents=True, exist_ok=True)
        for name, columns in files.items():
            source = args.source / folder / name
            if not source.is_file():
                print(f"error: {source}: file not found", file=sys.stderr)
                return 2
            target = args.out / folder / name
            write_file(source, target, columns)
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            print(f"{digest}  {folder}/{name}  {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
