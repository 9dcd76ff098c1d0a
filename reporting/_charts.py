"""The report's charts as inline SVG: one drug's SHAP waterfall in probability
units, and a strip per ranked drug (probability, its bin's interval, the tumour
type's rate). Drawn here, not in a browser, so the page needs no script."""

from __future__ import annotations

import html

from models import DrugScore, PatientExplanation, WaterfallStep

# The waterfall's geometry, in SVG user units (the figure scales to the page).
_WIDTH, _LABEL_WIDTH, _VALUE_WIDTH, _ROW, _TOP = 760, 260, 80, 24, 30
_PLOT_LEFT, _PLOT_RIGHT = _LABEL_WIDTH + 10, _WIDTH - _VALUE_WIDTH - 10
_LABEL_CHARS = 36
# The strip's geometry.
# No xmlns on the <svg> elements: inline in HTML, the parser gives them the SVG
# namespace, and the page then holds no URL at all.
_STRIP_WIDTH, _STRIP_HEIGHT, _STRIP_PAD = 120, 16, 4


def percent(p: float, digits: int = 1) -> str:
    """``p`` as a percentage, ``0.8312`` -> ``83.1%``."""
    return f"{100 * p:.{digits}f}%"


def points(delta: float) -> str:
    """A difference of probabilities in percentage points, signed (U+2212 minus)."""
    sign = "+" if delta >= 0 else "\N{MINUS SIGN}"
    return f"{sign}{abs(100 * delta):.1f} pp"


def feature_label(feature: str, value: float | None) -> str:
    """A waterfall step's feature as a reader says it: present or absent, a
    measured number, or not measured."""
    if value is None:
        return feature if feature.startswith("other ") else f"{feature} (not measured)"
    if feature.startswith(("tmb", "hrd")):
        return f"{feature} = {value:.4g}"
    return f"{feature} ({'present' if value >= 0.5 else 'absent'})"


def _x(p: float) -> float:
    return round(_PLOT_LEFT + p * (_PLOT_RIGHT - _PLOT_LEFT), 2)


def _y(row: int) -> int:
    return _TOP + row * _ROW


def _e(text: str) -> str:
    return html.escape(text)


def _label(row: int, text: str, *, strong: bool = False) -> str:
    shown = text if len(text) <= _LABEL_CHARS else f"{text[: _LABEL_CHARS - 1]}…"
    title = f"<title>{_e(text)}</title>" if shown != text else ""
    css = "label strong" if strong else "label"
    return (
        f'<text x="{_LABEL_WIDTH}" y="{_y(row) + 16}" class="{css}" '
        f'text-anchor="end">{title}{_e(shown)}</text>'
    )


def _value(row: int, text: str, css: str = "value") -> str:
    return f'<text x="{_PLOT_RIGHT + 8}" y="{_y(row) + 16}" class="{css}">{text}</text>'


def _dot(row: int, p: float, css: str = "dot") -> str:
    return f'<circle cx="{_x(p)}" cy="{_y(row) + 12}" r="5" class="{css}"/>'


def _grid(height: int) -> list[str]:
    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_x(tick)}" x2="{_x(tick)}" y1="{_TOP - 6}" '
            f'y2="{height - 6}" class="grid"/>'
            f'<text x="{_x(tick)}" y="{_TOP - 10}" class="tick" '
            f'text-anchor="middle">{percent(tick, 0)}</text>'
        )
    return parts


def _step(row: int, step: WaterfallStep) -> str:
    direction = "up" if step.delta >= 0 else "down"
    left = _x(min(step.start, step.end))
    width = max(abs(_x(step.end) - _x(step.start)), 1.5)
    return (
        _label(row, feature_label(step.feature, step.value))
        + f'<rect x="{left}" y="{_y(row) + 4}" width="{width:.2f}" '
        f'height="{_ROW - 8}" class="bar {direction}"/>'
        + f'<line x1="{_x(step.end)}" x2="{_x(step.end)}" y1="{_y(row) + 4}" '
        f'y2="{_y(row + 1) + 4}" class="connector"/>'
        + _value(row, points(step.delta), f"value {direction}")
    )


def waterfall_svg(explanation: PatientExplanation) -> str:
    """The SHAP waterfall as an SVG bar chart: from the base probability, one bar
    per feature (red up, blue down) to the model's raw probability, then the
    calibrated probability with its score bin's 95% interval."""
    steps = explanation.steps
    last = len(steps) + 1
    height = _y(last + 2) + 10
    title = (
        f"Waterfall for {explanation.drug}: from the base probability "
        f"{percent(explanation.base_probability)} to the model's "
        f"{percent(explanation.raw_probability)}"
    )
    score = explanation.score
    low, high = score.interval
    interval_y = _y(last + 1) + 12
    parts = [
        f'<svg viewBox="0 0 {_WIDTH} {height}" '
        f'class="waterfall" role="img"><title>{_e(title)}</title>',
        *_grid(height),
        _label(0, "base value (average sample)", strong=True),
        _dot(0, explanation.base_probability),
        _value(0, percent(explanation.base_probability)),
        *(_step(row, step) for row, step in enumerate(steps, start=1)),
        _label(last, "model's probability (raw)", strong=True),
        _dot(last, explanation.raw_probability),
        _value(last, percent(explanation.raw_probability)),
        _label(last + 1, "calibrated; line: bin's rate, ≈90% interval", strong=True),
        f'<line x1="{_x(low)}" x2="{_x(high)}" y1="{interval_y}" '
        f'y2="{interval_y}" class="interval"/>',
        _dot(last + 1, score.probability, "dot calibrated"),
        _value(last + 1, percent(score.probability)),
        "</svg>",
    ]
    return "".join(parts)


def strip_svg(score: DrugScore) -> str:
    """A small 0-100% strip: the calibrated probability (dot), its score bin's
    95% interval (line) and the tumour type's rate (tick). Decorative: the
    table's cells carry the same numbers as text."""
    span = _STRIP_WIDTH - 2 * _STRIP_PAD

    def x(p: float) -> float:
        return round(_STRIP_PAD + p * span, 2)

    middle = _STRIP_HEIGHT // 2
    low, high = score.interval
    return (
        f'<svg viewBox="0 0 {_STRIP_WIDTH} '
        f'{_STRIP_HEIGHT}" class="strip" aria-hidden="true">'
        f'<line x1="{x(0)}" x2="{x(1)}" y1="{middle}" y2="{middle}" class="track"/>'
        f'<line x1="{x(score.base_rate)}" x2="{x(score.base_rate)}" y1="2" '
        f'y2="{_STRIP_HEIGHT - 2}" class="rate"/>'
        f'<line x1="{x(low)}" x2="{x(high)}" y1="{middle}" y2="{middle}" '
        f'class="interval"/>'
        f'<circle cx="{x(score.probability)}" cy="{middle}" r="4" class="dot"/>'
        "</svg>"
    )
