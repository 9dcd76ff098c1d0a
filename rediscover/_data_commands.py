"""``rediscover data ...``: fetch, simulate, import, slice and version cohorts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from training.config import Config
from training.data import (
    MAPPINGS_FOLDER,
    AppendResult,
    Cohort,
    ImportResult,
    StudyFormatError,
    StudyMapping,
    append_cohort,
    fetch_dataset,
    import_ici_pooled,
    import_liu2019,
    import_study,
    is_cohort_store,
    list_versions,
    load_gdsc,
    load_mapping,
    read_cohort,
    read_truth,
    resolve_cohort_folder,
    simulate_drup,
    slice_by_date,
    write_cohort,
)


def fetch(args: argparse.Namespace, config: Config) -> int:
    cache = args.cache_dir or config.data.cache_dir
    folder = fetch_dataset(args.source, cache, data_dir=config.data.shipped_dir)
    print(f"{args.source} files are in {folder} (SHA-256 verified)")
    return 0


def load_cohort(source: str, config: Config) -> tuple[Cohort, str]:
    """The training cohort: ``gdsc`` or a stored cohort folder, and its name."""
    if source == "gdsc":
        folder = fetch_dataset(
            "gdsc", config.data.cache_dir, data_dir=config.data.shipped_dir
        )
        cohort = load_gdsc(
            folder,
            label_rule=config.data.label_rule,
            zscore_cutoff=config.data.zscore_cutoff,
        )
        return cohort, "gdsc1000_v17"
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError(
            f"--data must be 'gdsc' or a cohort folder or store; {folder} is neither"
        )
    name = f"cohort {folder.name}"
    if is_cohort_store(folder):
        name += f" version {resolve_cohort_folder(folder).name}"
    return read_cohort(folder), name


def simulate(args: argparse.Namespace, config: Config) -> int:
    # Alteration frequencies per tumour type come from the real GDSC profiles.
    gdsc, _ = load_cohort("gdsc", config)
    simulated = simulate_drup(seed=args.seed, source=gdsc)
    write_cohort(
        simulated.cohort,
        args.out,
        truth=simulated.truth,
        source=f"simulated DRUP, seed {args.seed}",
        metadata={"params": simulated.params.model_dump(mode="json")},
        overwrite=args.force,
    )
    treatments = simulated.cohort.treatments
    print(
        f"simulated DRUP cohort (seed {args.seed}): {len(simulated.cohort.profiles)} "
        f"patients, {len(treatments)} evaluable episodes, "
        f"{treatments['drug'].nunique()} drugs, clinical benefit "
        f"{treatments['responded'].mean():.1%}; written to {args.out}"
    )
    return 0


# --format of `rediscover data import`: the layouts a study folder may have. The
# tables have one fixed layout each; cBioPortal studies may be renamed by --mapping.
_TABLE_IMPORTERS: dict[str, Callable[[Path], ImportResult]] = {
    "ici-pooled": import_ici_pooled,
    "liu2019": import_liu2019,
}
IMPORT_FORMATS = ("cbioportal", *_TABLE_IMPORTERS)


def import_study_folder(args: argparse.Namespace, config: Config) -> int:
    result = _import(args.folder, args.format, mapping=args.mapping)
    for rejection in result.rejected[: args.show_rejected]:
        print(
            f"rejected {rejection.file}:{rejection.line} [{rejection.column}] "
            f"{rejection.reason}",
            file=sys.stderr,
        )
    out = args.out or config.data.cache_dir / "cohorts" / Path(args.folder).name
    write_cohort(result.cohort, out, overwrite=args.force)
    treatments = result.cohort.treatments
    endpoint = result.cohort.endpoint.replace("_", " ")
    print(
        f"imported {len(result.cohort.profiles)} samples, {len(treatments)} "
        f"episodes ({treatments['responded'].mean():.1%} {endpoint}); "
        f"{len(result.rejected)} rows rejected; cohort written to {out}"
    )
    return 0


def _import(folder: Path, layout: str, *, mapping: Path | None) -> ImportResult:
    """Read a study folder in one of `IMPORT_FORMATS`."""
    if layout == "cbioportal":
        study_mapping = StudyMapping()
        if mapping is not None:
            packaged = MAPPINGS_FOLDER / f"{mapping}.yaml"
            study_mapping = load_mapping(mapping if mapping.is_file() else packaged)
        return import_study(folder, mapping=study_mapping)
    if layout not in _TABLE_IMPORTERS:
        raise ValueError(f"--format {layout!r} is not one of {list(IMPORT_FORMATS)}")
    if mapping is not None:
        raise ValueError(f"--mapping applies to --format cbioportal, not {layout}")
    if not Path(folder).is_dir():
        raise StudyFormatError(f"{folder}: not a folder")
    return _TABLE_IMPORTERS[layout](folder)


def append(args: argparse.Namespace, config: Config) -> int:
    new = Path(args.new)
    if not new.is_dir():
        raise ValueError(f"NEW must be a cohort folder or store; {new} is neither")
    result = append_cohort(
        args.to,
        read_cohort(new),
        source=args.source or new.name,
        truth=read_truth(new),
    )
    print(_describe_append(result, new=new, store=args.to))
    return 0


def _describe_append(result: AppendResult, *, new: Path, store: Path) -> str:
    duplicates = f"{result.n_duplicates} duplicate episode(s) skipped"
    if not result.changed:
        return (
            f"nothing new in {new}: {duplicates}; {store} stays at version "
            f"{result.version} ({result.n_samples} samples, {result.n_episodes} "
            "episodes)"
        )
    after = result.previous_version or "a new store"
    return (
        f"added {result.n_new_samples} samples and {result.n_new_episodes} episodes "
        f"to {after}, {duplicates}; {store} is now at version {result.version} "
        f"({result.n_samples} samples, {result.n_episodes} episodes)"
    )


def versions(args: argparse.Namespace, config: Config) -> int:
    rows = list_versions(args.store)
    if args.json:
        print(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
        return 0
    print(f"  {'version':<13}{'created':<27}{'samples':>8}{'episodes':>9}  "
          f"{'parent':<13}source")  # fmt: skip
    for row in rows:
        print(
            f"{'*' if row.is_current else ' '} {row.version:<13}{row.created_at:<27}"
            f"{row.n_samples:>8}{row.n_episodes:>9}  {row.parent or '-':<13}"
            f"{row.source or '-'}"
        )
    return 0


def slice_cohort(args: argparse.Namespace, config: Config) -> int:
    if args.start is None and args.end is None:
        raise ValueError("give --from DATE, --to DATE or both (YYYY-MM-DD)")
    if args.out.exists() and not args.force:
        raise ValueError(f"{args.out} already exists; give --force to replace it")
    cohort = read_cohort(args.cohort)
    part = slice_by_date(cohort, start=args.start, end=args.end)
    truth = read_truth(args.cohort)
    if truth is not None and "sample_id" in truth.columns:
        kept = {p.sample_id for p in part.profiles}
        truth = truth[truth["sample_id"].isin(kept)]
    span = f"from {args.start or 'the start'} to {args.end or 'the end'}"
    write_cohort(
        part, args.out, truth=truth, source=f"{Path(args.cohort).name} {span}",
        overwrite=args.force,
    )  # fmt: skip
    print(
        f"kept {len(part.treatments)} of {len(cohort.treatments)} episodes and "
        f"{len(part.profiles)} of {len(cohort.profiles)} samples ({span}, end "
        f"excluded); written to {args.out}"
    )
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; accepted: YYYY-MM-DD"
        ) from None


def add_version_commands(
    data: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``append``, ``versions`` and ``slice`` to ``rediscover data``."""
    adding = data.add_parser(
        "append",
        help="add a cohort's new samples and episodes to a versioned cohort store",
        description="Merge NEW into the store's current version and write the "
        "result as a new version named by its content hash. An episode already "
        "stored (same sample and drug, same outcome) is counted and skipped; the "
        "same episode with another outcome, or a sample with another profile, is "
        "an error. The store is created when it does not exist.",
    )
    adding.add_argument("new", type=Path, help="cohort folder (or store) to add")
    adding.add_argument("--to", type=Path, required=True, help="cohort store folder")
    adding.add_argument(
        "--source", help="where the new data came from (default: NEW's folder name)"
    )
    adding.set_defaults(run=append)

    listing = data.add_parser("versions", help="list a cohort store's versions")
    listing.add_argument("store", type=Path, help="cohort store folder")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=versions)

    cut = data.add_parser(
        "slice",
        help="keep the episodes that started in a date range",
        description="Keep the episodes whose start_date is on or after --from and "
        "before --to, and the profiles of their samples.",
    )
    cut.add_argument("cohort", type=Path, help="cohort folder or store")
    cut.add_argument(
        "--from",
        dest="start",
        type=_iso_date,
        metavar="DATE",
        help="first day kept (YYYY-MM-DD) (default: no lower bound)",
    )
    cut.add_argument(
        "--to",
        dest="end",
        type=_iso_date,
        metavar="DATE",
        help="first day dropped (YYYY-MM-DD) (default: no upper bound)",
    )
    cut.add_argument("--out", type=Path, required=True, help="cohort folder")
    cut.add_argument("--force", action="store_true", help="replace --out")
    cut.set_defaults(run=slice_cohort)
