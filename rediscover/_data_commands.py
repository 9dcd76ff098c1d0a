"""``rediscover data ...``: fetch, simulate and import cohorts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training import Config
from training.data import (
    MAPPINGS_FOLDER,
    Cohort,
    StudyMapping,
    fetch_gdsc,
    import_study,
    load_gdsc,
    load_mapping,
    read_cohort,
    simulate_drup,
    write_cohort,
)


def fetch(args: argparse.Namespace, config: Config) -> int:
    cache = args.cache_dir or config.data.cache_dir
    folder = fetch_gdsc(cache, source_dir=config.data.shared_dir)
    print(f"GDSC1000 v17 files are in {folder}")
    return 0


def load_cohort(source: str, config: Config) -> tuple[Cohort, str]:
    """The training cohort: ``gdsc`` or a stored cohort folder, and its name."""
    if source == "gdsc":
        folder = fetch_gdsc(config.data.cache_dir, source_dir=config.data.shared_dir)
        cohort = load_gdsc(
            folder,
            label_rule=config.data.label_rule,
            zscore_cutoff=config.data.zscore_cutoff,
        )
        return cohort, "gdsc1000_v17"
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError(
            f"--data must be 'gdsc' or a cohort folder; {folder} is neither"
        )
    return read_cohort(folder), f"cohort {folder.name}"


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


def import_study_folder(args: argparse.Namespace, config: Config) -> int:
    mapping = StudyMapping()
    if args.mapping is not None:
        packaged = MAPPINGS_FOLDER / f"{args.mapping}.yaml"
        mapping = load_mapping(args.mapping if args.mapping.is_file() else packaged)
    result = import_study(args.folder, mapping=mapping)
    for rejection in result.rejected[: args.show_rejected]:
        print(
            f"rejected {rejection.file}:{rejection.line} [{rejection.column}] "
            f"{rejection.reason}",
            file=sys.stderr,
        )
    out = args.out or config.data.cache_dir / "cohorts" / Path(args.folder).name
    write_cohort(result.cohort, out, overwrite=args.force)
    treatments = result.cohort.treatments
    print(
        f"imported {len(result.cohort.profiles)} samples, {len(treatments)} "
        f"episodes ({treatments['responded'].mean():.1%} benefit); "
        f"{len(result.rejected)} rows rejected; cohort written to {out}"
    )
    return 0
