"""The model card every registered version carries (Markdown, aggregates only).

Intended use, data provenance, per-subgroup performance and known limits, after
Mitchell et al. "Model Cards for Model Reporting" (FAT* 2019). Nothing here names a
sample: only counts, rates and metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from features import canonical_tumour_type
from models import CvMetrics, ResponderModel
from training.config import Config
from training.data import Cohort

MODEL_CARD = "model_card.md"

INTENDED_USE = """\
- **For**: decision support inside a programme that evaluates off-label use of
  approved drugs (e.g. the Drug Rediscovery Protocol, DRUP): for a tumour profile,
  every drug ranked by a probability of response, with the matched-biomarker
  evidence and the features that drove each score.
- **Users**: molecular tumour boards and the data teams of precision-oncology
  programmes.
- It is **not a substitute for a molecular tumour board**: a score is one input
  to the board's review of the whole patient, never a treatment decision.
- It is **not for on-label treatment choice**: approved indications follow labels
  and guidelines, not this model.
- **Out of scope**: drugs and tumour types absent from training (flagged, not
  scored with confidence), direct use by patients, and any use the data licences
  below exclude."""

_LABEL_RULES = {
    "threshold": "ln(IC50) below the drug's published binarisation threshold "
    "(DeepCDR; its derivation was not verified)",
    "zscore": "ln(IC50) z-score within the drug below the configured cut-off",
    "given": "outcome as recorded by the cohort (patients: clinical benefit, "
    "CR/PR or stable disease >= 16 weeks)",
}

_GDSC_PROVENANCE = (
    "GDSC1000 release v17 cell lines (Iorio et al., Cell 166:740, 2016), from the "
    "repository's data/gdsc1000_v17 (IC50 and event matrix as in the gdsctools "
    "1.0.1 sdist, BSD-3; sources per file in its README); GDSC data are stated to be "
    "freely available without restriction (Yang et al., NAR 41:D955, 2013); check "
    "the current cancerrxgene.org terms before commercial use."
)
_COHORT_PROVENANCE = (
    "A stored cohort folder: its source and licence are recorded in the folder's "
    "README / metadata; patient cohorts may carry non-commercial terms."
)
_KNOWLEDGE_LICENCE = (
    "Drug knowledge (targets, matching rules): CIViC evidence items, CC0 1.0; the "
    "GDSC compound list; hand-curated label biomarkers."
)

LIMITS = """\
- **Cell-line responders are a proxy**: a GDSC "responder" is a cell line with a
  low IC50, not a patient with clinical benefit; no probability here has been
  validated against patient outcomes.
- **Label thresholds are unverified**: the per-drug IC50 thresholds come from
  DeepCDR and the z-score cut-off is a convention; responder calls move with them.
- **Small cohorts**: many drugs have few responders; their metrics have wide
  intervals and their models lean on tumour type. Check each drug's counts.
- **Absolute probabilities favour lineage-wide sensitive drugs**: drugs to which
  a whole lineage (e.g. haematopoietic lines) is sensitive score high for every
  profile of it; compare a drug's score with its responder rate, not only across
  drugs.
- **Rare biomarkers are under-used**: an event in fewer profiles than the
  vectorizer's minimum count has no column, and one in a handful (BCR-ABL1: 6
  GDSC lines) barely moves a model fitted on hundreds, however strong its effect.
- **Copy-number features are regional**: a GDSC gain or loss names every driver
  gene in a recurrent region, so an "amplification ERBB2" column means the region
  is gained, not that ERBB2 was called amplified.
- **No TMB in cell lines**: GDSC carries no tumour mutational burden; TMB and HRD
  features only exist for cohorts that measure them, and mutation counts are not
  a TMB.
- **Explanations are associations**: SHAP values say which features moved a
  score, not why a tumour responds; correlated features (tumour type, lineage,
  co-occurring events) share credit.
- **Cross-validation is optimistic** for other populations: folds are grouped by
  sample but drawn from one study, one assay and one label rule."""

_SUMMARY_NAMES = {
    "n_episodes": "treatment episodes in the cohort",
    "n_drugs": "drugs in the cohort",
    "n_tumour_types": "tumour types in the cohort",
    "responder_rate": "responder rate in the cohort",
}
_NOT_LISTED = {"n_samples", "data_hash", "source", "licence"}
_DESCRIPTION_LIMIT = 5000  # MLflow stores a version description as VARCHAR(5000)


def summarise_cohort(cohort: Cohort) -> dict[str, Any]:
    """Aggregate facts about a training cohort for the model card (no sample ids)."""
    treatments = cohort.treatments
    return {
        "n_samples": len(cohort.profiles),
        "n_episodes": len(treatments),
        "n_drugs": treatments["drug"].nunique(),
        "n_tumour_types": len(
            {canonical_tumour_type(p.tumour_type) for p in cohort.profiles}
        ),
        "responder_rate": round(float(treatments["responded"].mean()), 4),
        "data_hash": cohort.data_hash(),
    }


def model_card(
    model: ResponderModel,
    *,
    config: Config,
    cohort_summary: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None,
    per_subgroup: bool = True,
) -> str:
    """The model card as Markdown.

    Parameters
    ----------
    model
        The bundle: provenance and per-drug CV metrics come from its metadata.
    config
        The training configuration (hyper-parameters, folds, label cut-off).
    cohort_summary
        Aggregates of the training cohort (see :func:`summarise_cohort`), plus
        optional ``source`` and ``licence`` text; may be empty; other keys are
        listed as given.
    evaluation
        Optional evaluation result; ``evaluation["tumour_types"]`` (tumour type
        -> metric name -> number) and ``evaluation["overall"]`` become tables,
        ``evaluation["split"]`` names the split.
    per_subgroup
        Include the training set-up and the per-drug and per-tumour-type tables
        (False: a summary that fits the registry's description field).
    """
    sections = [
        _header(model, config),
        f"## Intended use\n\n{INTENDED_USE}",
        _provenance(model, cohort_summary, config),
        _training(config) if per_subgroup else None,  # the run's params hold it
        _performance(model, evaluation, per_subgroup=per_subgroup),
        f"## Known limits\n\n{LIMITS}",
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def registry_description(card: str) -> str:
    """The card cut to what the MLflow registry stores, pointing at the full one."""
    note = f"\n\n(Cut to fit the registry; the full card is the run's {MODEL_CARD}.)\n"
    if len(card) <= _DESCRIPTION_LIMIT:
        return card
    return card[: _DESCRIPTION_LIMIT - len(note)].rsplit("\n", 1)[0] + note


def _header(model: ResponderModel, config: Config) -> str:
    meta = model.metadata
    served = Counter(d.served_by for d in meta.drugs.values())
    return (
        f"# Model card: {config.tracking.registered_model}\n\n"
        f"Per-drug responder models for {len(meta.drugs)} drugs "
        f"({served['per-drug']} with their own XGBoost model, "
        f"{served['pooled']} served by the pooled model, {served['biomarker']} by "
        f"their known biomarker alone, {served['rate']} by their tumour-type "
        "response rate where no model beat it), "
        f"{len(meta.feature_names)} profile features; rediscover "
        f"{meta.package_version}, bundle format {meta.format_version}, trained "
        f"{meta.created_at} on `{meta.data_source}`."
    )


def _provenance(
    model: ResponderModel, summary: Mapping[str, Any], config: Config
) -> str:
    meta = model.metadata
    infos = meta.drugs.values()
    rules = Counter(d.label_rule for d in infos)
    facts = {
        "data hash (SHA-256 of the cohort tables)": f"`{meta.data_hash}`",
        "samples": summary.get("n_samples", "not recorded"),
        "treatment episodes of the modelled drugs": sum(
            d.n_training_samples for d in infos
        ),
        "responders among them": sum(d.n_responders for d in infos),
        "tumour types of the modelled drugs": len(
            {t for d in infos for t in d.tumour_types}
        ),
    }
    # The bundle's own hash is the one that counts; source and licence go below.
    shown = {k: v for k, v in summary.items() if k not in _NOT_LISTED}
    facts |= {_SUMMARY_NAMES.get(k, k.replace("_", " ")): v for k, v in shown.items()}
    rule_lines = [
        f"  - `{rule}` ({n} drug{'s' * (n != 1)}): "
        + _LABEL_RULES.get(rule, "as recorded by the loader").replace(
            "configured cut-off", f"cut-off {config.data.zscore_cutoff}"
        )
        for rule, n in rules.most_common()
    ]
    source = (
        _GDSC_PROVENANCE
        if meta.data_source.startswith("gdsc")
        else summary.get("source", _COHORT_PROVENANCE)
    )
    lines = [f"- **Source**: {source}", *(f"- {k}: {v}" for k, v in facts.items())]
    return "\n".join(
        [
            "## Data provenance\n",
            *lines,
            "- label rule per drug (listed per drug below):",
            *rule_lines,
            f"- licences: {summary.get('licence', _licence(meta.data_source))} "
            f"{_KNOWLEDGE_LICENCE}",
        ]
    )


def _licence(data_source: str) -> str:
    if data_source.startswith("gdsc"):
        return "GDSC: free without restriction (check terms for commercial use)."
    return "as stated by the cohort's source."


def _training(config: Config) -> str:
    xgb = config.xgboost
    return (
        "## Training\n\n"
        f"- XGBoost binary:logistic per drug ({xgb.n_estimators} trees, depth "
        f"{xgb.max_depth}, learning rate {xgb.learning_rate}); a pooled model with "
        "drug identity and target-match features where drugs have little data; "
        "cross-validation picks the model that serves each drug.\n"
        f"- Grouped stratified {config.training.cv_folds}-fold cross-validation "
        f"(one sample never on both sides; seed {config.training.seed}); the "
        "feature vocabulary is refitted inside every training fold; events seen "
        f"in fewer than {config.features.min_count} profiles get no column."
    )


def _performance(
    model: ResponderModel, evaluation: Mapping[str, Any] | None, *, per_subgroup: bool
) -> str:
    infos = model.metadata.drugs
    auroc = np.array([d.cv.auroc for d in infos.values() if d.cv.auroc is not None])
    above = sum(1 for d in infos.values() if d.cv.auroc_ci and d.cv.auroc_ci[0] > 0.5)
    brier = np.median([d.cv.brier for d in infos.values()])
    parts = ["## Performance (cross-validated, served model)\n"]
    if len(auroc):
        q1, median, q3 = np.percentile(auroc, [25, 50, 75])
        parts.append(
            f"- AUROC over {len(auroc)} drugs: median {median:.3f} (IQR "
            f"{q1:.3f}-{q3:.3f}, range {auroc.min():.3f}-{auroc.max():.3f}); "
            f"{above} drugs have a bootstrap 95% interval above 0.5.\n"
            f"- Brier score: median {brier:.3f} over drugs."
        )
    if evaluation is not None and "overall" in evaluation:
        split = evaluation.get("split", "evaluation")
        parts.append(f"\nOverall, {split} split:\n")
        parts.append(_metrics_table({"all": evaluation["overall"]}, "subset"))
    if not per_subgroup:
        parts.append(
            f"\nTraining set-up, per-drug and per-tumour-type tables: the run "
            f"artifact {MODEL_CARD}."
        )
        return "\n".join(parts)
    parts.append("\n### Per drug\n")
    parts.append(_drug_table(model))
    tumour_types = (evaluation or {}).get("tumour_types")
    if tumour_types:
        parts.append("\n### Per tumour type\n")
        parts.append(_metrics_table(tumour_types, "tumour type"))
    return "\n".join(parts)


def _drug_table(model: ResponderModel) -> str:
    header = ["drug", "served by", "n", "responders", "prevalence", "AUROC (95% CI)"]
    header += ["AUPRC", "Brier", "label rule"]
    rows = [
        [drug, info.served_by, str(info.n_training_samples), str(info.n_responders),
         f"{info.cv.prevalence:.2f}", _auroc(info.cv), _number(info.cv.auprc),
         _number(info.cv.brier), info.label_rule]
        for drug, info in sorted(model.metadata.drugs.items())
    ]  # fmt: skip
    return _markdown(header, rows)


def _auroc(cv: CvMetrics) -> str:
    if cv.auroc is None:
        return "n/a"
    if cv.auroc_ci is None:
        return f"{cv.auroc:.3f}"
    return f"{cv.auroc:.3f} ({cv.auroc_ci[0]:.3f}-{cv.auroc_ci[1]:.3f})"


def _metrics_table(rows: Mapping[str, Mapping[str, Any]], first: str) -> str:
    # Only scalar metrics; nested structures (curves) stay in the metrics JSON.
    scalar = (int, float, np.integer, np.floating, type(None))
    columns: list[str] = []
    for metrics in rows.values():
        columns += [
            k for k, v in metrics.items() if isinstance(v, scalar) and k not in columns
        ]
    body = [
        [str(name), *(_number(metrics.get(c)) for c in columns)]
        for name, metrics in rows.items()
    ]
    return _markdown([first, *columns], body)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.3f}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
