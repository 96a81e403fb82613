"""The review's charts, drawn by matplotlib as SVG and inlined in the page (no script, no CDN).

Text is drawn as paths (matplotlib's default `svg.fonttype: path`), so the page needs no font and
looks the same on every machine; ids inside each SVG get a per-chart prefix so that several charts
in one page never share a clip path or glyph id.
"""

from __future__ import annotations

import io
import re
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

IOM_BLUE = "#0033A0"
WIDTH = 6.4  # inches: every chart the same width, so that they share one scale on the page
OUTCOME_COLOURS = {
    "answered": IOM_BLUE,
    "low_confidence": "#6C9BE8",
    "small_talk": "#A7B1BC",
    "not_understood": "#C8102E",
    "out_of_scope": "#E8A33D",
    "no_answer": "#3B3B3B",
}
OUTCOME_LABELS = {
    "answered": "answered",
    "low_confidence": "answered, low confidence",
    "small_talk": "small talk",
    "not_understood": "not understood",
    "out_of_scope": "out of scope",
    "no_answer": "no answer (failure)",
}

plt.rcParams.update({
    "svg.hashsalt": "iom-review",  # stable ids: the same data gives the same file
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
})

_ID = re.compile(r'\bid="([^"]+)"')


def _svg(figure, prefix: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    # Scale with the page: keep the viewBox, drop the fixed size.
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 role="img"', svg, count=1)
    return svg


def _empty(ax, message: str = "No messages in this period") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555")
    ax.set_xticks([])
    ax.set_yticks([])


def horizontal_bars(
    prefix: str, title: str, labels: Sequence[str], values: Sequence[int],
    colour: str = IOM_BLUE, xlabel: str = "messages",
) -> str:
    height = 1.3 + 0.3 * max(len(labels), 3)
    figure, ax = plt.subplots(figsize=(WIDTH, height), constrained_layout=True)
    ax.set_title(title)
    if not labels:
        _empty(ax)
        return _svg(figure, prefix)
    positions = list(range(len(labels)))[::-1]
    bars = ax.barh(positions, values, color=colour)
    ax.set_yticks(positions)
    ax.set_yticklabels([_shorten(label) for label in labels])
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    return _svg(figure, prefix)


def day_bars(prefix: str, title: str, days: Sequence[str], values: Sequence[int]) -> str:
    figure, ax = plt.subplots(figsize=(WIDTH, 3.4), constrained_layout=True)
    ax.set_title(title)
    if not any(values):
        _empty(ax)
        return _svg(figure, prefix)
    positions = list(range(len(days)))
    ax.bar(positions, values, color=IOM_BLUE)
    _day_ticks(ax, days)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("messages")
    return _svg(figure, prefix)


def outcome_shares(prefix: str, title: str, days: Sequence[str], counts: Dict[str, List[int]]) -> str:
    """100% stacked bars per day: the share of each outcome."""
    figure, ax = plt.subplots(figsize=(WIDTH, 3.9), constrained_layout=True)
    ax.set_title(title)
    totals = [sum(counts[o][i] for o in counts) for i in range(len(days))]
    if not any(totals):
        _empty(ax)
        return _svg(figure, prefix)
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for outcome, values in counts.items():
        shares = [100.0 * v / t if t else 0.0 for v, t in zip(values, totals)]
        if not any(shares):
            continue
        ax.bar(positions, shares, bottom=bottom, color=OUTCOME_COLOURS[outcome],
               label=OUTCOME_LABELS[outcome])
        bottom = [b + s for b, s in zip(bottom, shares)]
    _day_ticks(ax, days)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of messages")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False, fontsize=8)
    return _svg(figure, prefix)


def _day_ticks(ax, days: Sequence[str]) -> None:
    step = max(1, len(days) // 10)
    ticks = list(range(0, len(days), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([days[i][5:] for i in ticks], rotation=0)
    ax.set_xlabel("day (UTC, month-day)")


def _shorten(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def share_donut(prefix: str, title: str, counts: Dict[str, int], note: Optional[str] = None) -> str:
    figure, (ax, key) = plt.subplots(
        1, 2, figsize=(WIDTH, 3.4), gridspec_kw={"width_ratios": [1, 1.1]}, constrained_layout=True
    )
    key.axis("off")
    ax.set_title(title)
    items = [(o, c) for o, c in counts.items() if c]
    if not items:
        _empty(ax)
        return _svg(figure, prefix)
    total = sum(c for _, c in items)
    wedges, _ = ax.pie(
        [c for _, c in items], colors=[OUTCOME_COLOURS[o] for o, _ in items], startangle=90,
        counterclock=False, wedgeprops={"width": 0.38, "edgecolor": "white"},
    )
    key.legend(
        wedges, [f"{OUTCOME_LABELS[o]}: {c} ({100 * c / total:.0f}%)" for o, c in items],
        loc="center left", frameon=False, fontsize=9,
    )
    ax.set_aspect("equal")
    if note:
        ax.text(0, 0, note, ha="center", va="center", fontsize=12, fontweight="bold")
    return _svg(figure, prefix)
