"""The report as one HTML page: every string from the profile or the bundle
escaped here, the stylesheet and charts inline, no script and no URL."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from features import Alteration, Match, Profile, canonical_tumour_type
from models import CELL_LINE_REASON, BundleMetadata, DrugScore, PatientExplanation

# Not re-exported by models; the one wording of the cell-line caveat, which the
# page states once at the top instead of in every row's reason.
from reporting._charts import feature_label, percent, points, strip_svg, waterfall_svg
from reporting._report import PatientReport
from reporting._style import CSS, PAGE_POLICY

# What a response is, per the bundle's endpoint (as the review page words it).
ENDPOINTS = {
    "ic50_sensitivity": "sensitivity (ln IC50 below the drug's threshold)",
    "activity_area_sensitivity": "sensitivity (activity area above the drug's "
    "threshold)",
    "clinical_benefit": "clinical benefit (CR/PR, or SD for 16 weeks or more)",
    "objective_response": "objective response (CR/PR)",
}
SERVED_BY = {
    "per-drug": "the drug's own model",
    "pooled": "the pooled model (borrows across drugs)",
    "biomarker": "its known biomarker alone",
    "rate": "the tumour type's rate alone (no genomic signal learned)",
}
# The interval, worded as the API's DrugScoreOut.interval describes it.
INTERVAL_MEANING = (
    "the 95% Wilson interval of the response rate observed among the held-out "
    "training episodes of this drug whose calibrated probability fell in the same "
    "score bin (what happened to samples scored like this one): an interval of "
    "that bin's rate, not a bound on this patient's probability; measured on "
    "held-out simulated patients, it held the bin's true rate about 90% of the time"
)
_PREDICTION_SETS = {
    (0,): "non-responder",
    (1,): "responder",
    (0, 1): "either (cannot call)",
}


def _e(value: object) -> str:
    return html.escape(str(value))


def render_report(report: PatientReport) -> str:
    """The whole page for ``report``: self-contained, printable HTML."""
    title = f"Tumour-board report: {_subject(report.profile)}"
    body = "\n".join(
        [
            _header(report),
            _model_section(report),
            _profile_section(report),
            _ranking_section(report),
            *(_drug_section(e, n_drugs=report.n_drugs) for e in report.explained),
            _footer(report),
        ]
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _subject(profile: Profile) -> str:
    sample = f"sample {profile.sample_id}, " if profile.sample_id else ""
    return f"{sample}{profile.tumour_type}"


def _header(report: PatientReport) -> str:
    meta = report.metadata
    when = report.generated_at.strftime("%Y-%m-%d %H:%M %Z").strip()
    return (
        "<header>\n<h1>Tumour-board report</h1>\n"
        f'<p class="lede">Off-label drug ranking for {_e(_subject(report.profile))}; '
        f"model version {_e(report.model_version)}, generated {_e(when)}. Decision "
        "support for the molecular tumour board: it does not replace the board "
        "and is not a treatment recommendation.</p>\n"
        f'<p class="caveat" id="population">{_population_note(meta)}</p>\n'
        "</header>"
    )


def _population_note(meta: BundleMetadata) -> str:
    """What every probability on the page is a probability of."""
    endpoint = _e(ENDPOINTS.get(meta.endpoint, meta.endpoint))
    if meta.population == "cell_line":
        return (
            "<strong>Scores are cell-line sensitivity, not a patient's probability "
            "of response.</strong> This model was learnt from cancer cell lines "
            f"({_e(meta.data_source)}): every probability in this report is the "
            f"chance that cell lines like this tumour show {endpoint}."
        )
    return (
        f"Learnt from patients ({_e(meta.data_source)}): each probability is the "
        f"calibrated chance of {endpoint} for a patient with this profile."
    )


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    """A definition list; the values are HTML already (escape before)."""
    items = "".join(f"<dt>{_e(term)}</dt><dd>{value}</dd>" for term, value in rows)
    return f'<dl class="facts">{items}</dl>'


def _model_section(report: PatientReport) -> str:
    meta = report.metadata
    population = "cancer cell lines" if meta.population == "cell_line" else "patients"
    rows = [
        ("Model version", _e(report.model_version)),
        ("Training data", _e(meta.data_source)),
        ("Data hash (SHA-256)", f'<span class="hash">{_e(meta.data_hash)}</span>'),
        ("Bundle built", _e(meta.created_at)),
        ("Population", f"{_e(population)} (<code>{_e(meta.population)}</code>)"),
        (
            "Endpoint",
            f"{_e(ENDPOINTS.get(meta.endpoint, meta.endpoint))} "
            f"(<code>{_e(meta.endpoint)}</code>)",
        ),
        ("Drugs scored", _e(report.n_drugs)),
        ("Built by", f"rediscover {_e(meta.package_version)}"),
    ]
    return f'<section id="model">\n<h2>Model and data</h2>\n{_facts(rows)}\n</section>'


def _given(value: object | None, unit: str = "") -> str:
    return '<span class="muted">not given</span>' if value is None else _e(value) + unit


def _profile_section(report: PatientReport) -> str:
    profile = report.profile
    canonical = canonical_tumour_type(profile.tumour_type)
    tumour_type = _e(profile.tumour_type)
    if canonical != profile.tumour_type:
        tumour_type += f" (read as {_e(canonical)})"
    msi = {None: None, True: "MSI-high", False: "microsatellite stable"}
    hrd = None if profile.hrd_score is None else f"{profile.hrd_score:g}"
    rows = [
        ("Sample id", _given(profile.sample_id)),
        ("Tumour type", tumour_type),
        ("Alterations", str(len(profile.alterations) or "none reported")),
        ("TMB", _given(_number(profile.tmb_mut_per_mb), " mut/Mb")),
        ("MSI status", _given(msi[profile.msi_high])),
        ("HRD score", _given(hrd, " (42 or more: HRD-positive)" if hrd else "")),
        ("Read from", _e(", ".join(report.read_from)) or _given(None)),
        ("Left out while reading", _e("; ".join(report.ignored)) or "nothing"),
    ]
    return (
        '<section id="profile">\n<h2>The profile as read</h2>\n'
        f"{_facts(rows)}\n{_alterations_table(profile.alterations)}\n"
        '<p class="small">A field shown as "not given" was missing from the '
        "profile; the model treats it as unknown, not as negative.</p>\n</section>"
    )


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def _alterations_table(alterations: Sequence[Alteration]) -> str:
    if not alterations:
        return "<p>No alterations reported.</p>"
    rows = "".join(
        f"<tr><td>{_e(a.kind)}</td><td>{_e(a.gene)}</td>"
        f"<td>{_e(a.protein_change or '')}</td><td>{_e(a.partner_gene or '')}</td></tr>"
        for a in alterations
    )
    return (
        '<table id="alterations"><caption>Alterations</caption><thead><tr>'
        '<th scope="col">Kind</th><th scope="col">Gene</th>'
        '<th scope="col">Protein change</th><th scope="col">Fusion partner</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _evidence(match: Match | None) -> str:
    if match is None:
        return '<span class="muted">no known biomarker of this drug</span>'
    label = "on-label in this tumour type" if match.on_label else "off-label"
    return f"class {match.matching_class}: {_e(match.alteration)} ({label})"


def _domain(score: DrugScore) -> str:
    if score.in_domain:
        return "yes"
    return f"no: {_e(_without_caveat(score.reason))}"


def _without_caveat(reason: str | None) -> str:
    """The reason with the cell-line caveat shortened: the page states it once."""
    return (reason or "").replace(CELL_LINE_REASON, "cell-line model (see the top)")


def _head(*columns: str) -> str:
    """Column headers; a leading ``#`` marks a numeric column (right-aligned)."""
    return "".join(
        f'<th scope="col" class="num">{_e(c[1:])}</th>'
        if c.startswith("#")
        else f'<th scope="col">{_e(c)}</th>'
        for c in columns
    )


def _signed(value: float) -> str:
    return f"{value:+.3f}".replace("-", "\N{MINUS SIGN}")


def _ranking_row(score: DrugScore) -> str:
    low, high = score.interval
    css = "" if score.in_domain else ' class="out-of-domain"'
    return (
        f"<tr{css}><td class='num'>{score.rank}</td>"
        f"<td class='drug'>{_e(score.drug)}</td>"
        f"<td>{_evidence(score.matched_biomarker)}</td>"
        f"<td class='num'>{percent(score.probability)}{strip_svg(score)}</td>"
        f"<td class='num'>{percent(low, 0)}\N{EN DASH}{percent(high, 0)}</td>"
        f"<td class='num'>{percent(score.base_rate)}</td>"
        f"<td class='num'>{points(score.lift)}</td>"
        f"<td class='nowrap'>{_e(score.served_by)}</td>"
        f"<td class='domain'>{_domain(score)}</td></tr>"
    )


def _ranking_section(report: PatientReport) -> str:
    head = _head(
        "#Rank", "Drug", "Evidence (DRUP class)", "#Probability",
        "#Bin rate, Wilson 95% (≈90% measured)", "#Tumour type's rate", "#Lift",
        "Served by", "In domain",
    )  # fmt: skip
    rows = "".join(_ranking_row(s) for s in report.ranked)
    served = "; ".join(f"<code>{k}</code>: {_e(v)}" for k, v in SERVED_BY.items())
    return (
        '<section id="ranking">\n'
        f"<h2>Ranked drugs: the first {len(report.ranked)} of {report.n_drugs}</h2>\n"
        "<p>Ordered as a DRUP tumour board reads them: drugs whose known biomarker "
        "the profile carries first, by matching class (1 before 2, 3, 4), then by "
        "calibrated probability.</p>\n"
        f'<table id="ranked"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>\n"
        '<p class="small"><strong>Probability</strong>: calibrated (strip: dot the '
        "probability, line its interval, tick the tumour type's rate). "
        f"<strong>Bin rate</strong>: {INTERVAL_MEANING}. <strong>Tumour type's "
        "rate</strong>: the drug's response rate in this tumour type, shrunk across "
        "tumour types; <strong>lift</strong> = probability minus that rate, in "
        "percentage points (what the genome adds). <strong>Evidence</strong>: DRUP "
        "matching class 1 the drug's on-label marker, 2 an upstream variant in its "
        "pathway, 3 a unique susceptibility (BRCA/HRD, MSI or TMB), 4 other "
        f"published evidence. <strong>Served by</strong>: {served}. "
        "<strong>In domain</strong>: no when the drug, the tumour type or the "
        "profile lies outside the training data; the score is then an "
        "extrapolation.</p>\n</section>"
    )


def _drug_section(explanation: PatientExplanation, *, n_drugs: int) -> str:
    score = explanation.score
    drug = _e(explanation.drug)
    return (
        f'<section class="drug-section" id="drug-{score.rank}">\n'
        f"<h2>{score.rank}. {drug}: why this score</h2>\n"
        f"{_facts(_drug_facts(explanation, n_drugs=n_drugs))}"
        f"\n{_waterfall_figure(explanation)}\n</section>"
    )


def _drug_facts(
    explanation: PatientExplanation, *, n_drugs: int
) -> list[tuple[str, str]]:
    score = explanation.score
    low, high = score.interval
    key = explanation.key_alteration
    similar = (
        f"{_e(_capitalised(key.statement))} (key alteration: {_e(key.feature)}, "
        f"chosen as the {_e(key.chosen_by)})."
        if key is not None
        else "The profile carries no alteration that raises this score."
    )
    evidence = _evidence(score.matched_biomarker)
    if score.matched_biomarker is not None:
        evidence += f'<br><span class="small">{_e(score.matched_biomarker.evidence)}'
        evidence += "</span>"
    return [
        ("Rank", f"{score.rank} of {n_drugs}"),
        ("Calibrated probability", f"<strong>{percent(score.probability)}</strong>"),
        (
            "Bin rate, Wilson 95% (≈90% measured)",
            f"{percent(low)}\N{EN DASH}{percent(high)}: {_e(INTERVAL_MEANING)}",
        ),
        (
            "Tumour type's rate",
            f"{percent(score.base_rate)}; lift over it {points(score.lift)}",
        ),
        (
            "Model's own probability",
            f"{percent(explanation.raw_probability)} (uncalibrated; the waterfall "
            "explains this one)",
        ),
        (
            f"Prediction set ({percent(score.coverage, 0)} coverage)",
            _e(_PREDICTION_SETS.get(score.prediction_set, "none")),
        ),
        ("Served by", _e(SERVED_BY.get(score.served_by, score.served_by))),
        ("In domain", _domain(score)),
        ("Evidence (DRUP class)", evidence),
        ("Similar training samples", similar),
    ]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _waterfall_figure(explanation: PatientExplanation) -> str:
    if not explanation.steps:
        why = SERVED_BY.get(explanation.score.served_by, explanation.score.served_by)
        return (
            f"<p>No waterfall: {_e(explanation.drug)} is scored by {_e(why)}, "
            "which has no features to attribute the score to.</p>"
        )
    rows = "".join(
        f"<tr><th scope='row'>{_e(feature_label(s.feature, s.value))}</th>"
        f"<td class='num'>{_signed(s.shap)}</td><td class='num'>{percent(s.start)}</td>"
        f"<td class='num'>{percent(s.end)}</td>"
        f"<td class='num'>{points(s.delta)}</td></tr>"
        for s in explanation.steps
    )
    head = _head("Feature", "#SHAP (log-odds)", "#From", "#To", "#Change")
    return (
        '<figure class="waterfall-figure"><figcaption><strong>Why: SHAP waterfall '
        "in probability units.</strong> Each bar moves the model's probability by "
        "one feature, largest first (red raises it, blue lowers it); the steps add "
        "up from the base value (the tumour type's rate moved by the trees' "
        "average) to the model's own probability, which calibration then maps to "
        f"the calibrated probability.</figcaption>{waterfall_svg(explanation)}"
        "</figure>\n"
        f"<table class='steps'><caption>The waterfall's steps</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _footer(report: PatientReport) -> str:
    return (
        '<footer class="small">\n'
        f"<p>Model version {_e(report.model_version)}, training data "
        f"{_e(report.metadata.data_source)} (SHA-256 "
        f'<span class="hash">{_e(report.metadata.data_hash[:12])}</span>…). '
        "SHAP values are TreeSHAP contributions to the uncalibrated model's "
        "log-odds, shown as steps of probability; calibration is monotone, so a "
        "feature that raises the model's probability never lowers the calibrated "
        "one. Counts of similar training samples are the bundle's stored "
        "aggregates (no training sample is identified).</p>\n</footer>"
    )
