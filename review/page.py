"""reports/review.html: one self-contained page (inline SVG charts and CSS, no script, nothing
fetched: a Content-Security-Policy forbids it) that opens from disk."""

from __future__ import annotations

from html import escape
from datetime import date
from typing import TYPE_CHECKING, Callable, List, Sequence, Tuple

from review import charts
from review.summary import Summary
from review.unanswered import Group

if TYPE_CHECKING:  # the review itself runs even without a readable facts file
    from actions.fact_dates import ToRecheck

TOP_UNANSWERED = 25

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d1d1d;
       background: #f4f6fa; }
header { background: #0033A0; color: white; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
header p { margin: 0; opacity: .9; }
main { padding: 1.2rem 2rem 2rem; max-width: 1400px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(135px, 1fr)); gap: .8rem; }
.tile { background: white; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; }
.tile b { display: block; font-size: 1.6rem; }
.tile.alert b { color: #C8102E; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem;
          margin-top: 1rem; align-items: start; }
figure { background: white; margin: 0; padding: .8rem; border-radius: 8px; box-shadow: 0 1px 2px #0002; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
details { font-size: .85rem; margin-top: .3rem; }
table { border-collapse: collapse; width: 100%; background: white; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
th { background: #e9eef8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
section { margin-top: 1.5rem; }
a { color: #0033A0; }
"""


def _table(rows: Sequence[Tuple[str, int]], heading: str) -> str:
    body = "".join(f"<tr><td>{escape(label)}</td><td class='n'>{count}</td></tr>" for label, count in rows)
    return (f"<details><summary>Data</summary><table><tr><th>{escape(heading)}</th><th>messages</th></tr>"
            f"{body}</table></details>")


def _figure(svg: str, caption: str, rows: Sequence[Tuple[str, int]], heading: str, name: str) -> str:
    return (f"<figure data-chart='{escape(name)}'>{svg}<figcaption>{escape(caption)}</figcaption>"
            f"{_table(rows, heading)}</figure>")


def _tile(label: str, value: str, alert: bool = False) -> str:
    return f"<div class='tile{' alert' if alert else ''}'><b>{escape(value)}</b>{escape(label)}</div>"


def recheck_section(
    entries: Sequence["ToRecheck"], max_age_months: int, today: date, title: Callable[[str], str]
) -> str:
    """The facts whose `as_of` is older than the age limit, as `make check-facts` lists them."""
    rows = "".join(
        f"<tr><td>{escape(title(entry.key))}</td><td>{escape(entry.as_of)}</td>"
        f"<td class='n'>{entry.months}</td><td>"
        + "<br>".join(f"<a href='{escape(url)}'>{escape(url)}</a>" for url in entry.sources)
        + "</td></tr>"
        for entry in entries
    ) or f"<tr><td colspan='4'>None: every fact is dated less than {max_age_months} months ago.</td></tr>"
    return (
        f"<section data-section='to-recheck'><h2>Facts to re-check ({len(entries)})</h2>"
        f"<p>Facts whose date (<code>as_of</code> in facts/facts.yml) is more than {max_age_months} months "
        f"before {today.isoformat()}: check them on their sources and update the text and the date. "
        "<code>make check-facts</code> prints the same list.</p>"
        "<table><tr><th>fact</th><th>as of</th><th>months old</th><th>sources</th></tr>"
        f"{rows}</table></section>"
    )


def render(
    summary: Summary, groups: List[Group], min_confidence: float, period: str, source: str,
    generated: str, recheck: str = "",
) -> str:
    s = summary
    day_rows = list(zip(s.days, s.per_day))
    outcome_rows = [(charts.OUTCOME_LABELS[o], c) for o, c in s.outcomes.items()]
    figures = [
        _figure(charts.day_bars("day", "Messages per day", s.days, s.per_day),
                "User messages (typed or clicked) per day, UTC.", day_rows, "day", "per-day"),
        _figure(charts.outcome_shares("share", "What the replies were, per day", s.days, s.outcomes_per_day),
                "Share of messages answered with a fact, small talk, not understood, out of scope.",
                outcome_rows, "reply", "outcome-per-day"),
        _figure(charts.share_donut("donut", "Not understood and out of scope", s.outcomes,
                                   note=f"{s.share('not_understood', 'out_of_scope'):.0f}%"),
                "Centre: share of messages not understood or out of scope over the period.",
                outcome_rows, "reply", "outcome-share"),
        _figure(charts.horizontal_bars("topic", "Answered, by topic", [t for t, _ in s.per_topic],
                                       [c for _, c in s.per_topic]),
                "Fact answers by topic (slot `topic`), follow-ups included.", s.per_topic, "topic",
                "per-topic"),
        _figure(charts.horizontal_bars("language", "Messages per language", [t for t, _ in s.per_language],
                                       [c for _, c in s.per_language]),
                "The language of the reply (slot `language`).", s.per_language, "language", "per-language"),
        _figure(charts.horizontal_bars("channel", "Messages per channel", [t for t, _ in s.per_channel],
                                       [c for _, c in s.per_channel]),
                "rest: REST API; socketio: the website's chat; telegram; whatsapp.", s.per_channel,
                "channel", "per-channel"),
        _figure(charts.horizontal_bars("clicks", "Clicked after an answer",
                                       [t for t, _ in s.clicks_after_answer],
                                       [c for _, c in s.clicks_after_answer], colour="#2A7F62",
                                       xlabel="clicks"),
                "Buttons (related topics) people clicked right after a fact answer.",
                s.clicks_after_answer, "button", "clicks"),
    ]
    tiles = "".join([
        _tile("messages", str(s.messages)),
        _tile("conversations", str(s.conversations)),
        _tile("answered with a fact", f"{s.share('answered', 'low_confidence'):.0f}%"),
        _tile("not understood", f"{s.share('not_understood'):.0f}%", alert=True),
        _tile("out of scope", f"{s.share('out_of_scope'):.0f}%", alert=True),
        _tile(f"answers with confidence < {min_confidence:g}", str(s.outcomes.get("low_confidence", 0))),
        _tile("no answer (failures)", str(s.outcomes.get("no_answer", 0)), alert=bool(s.outcomes.get("no_answer"))),
        _tile("button clicks", str(s.clicks)),
    ])
    rows = "".join(
        "<tr>" + "".join(
            f"<td class='n'>{escape(v)}</td>" if k in ("count", "confidence") else f"<td>{escape(v)}</td>"
            for k, v in group.row(min_confidence).items()
            if k in ("count", "text", "language", "outcome", "guessed_intent", "confidence", "last_seen")
        ) + "</tr>"
        for group in groups[:TOP_UNANSWERED]
    ) or "<tr><td colspan='7'>Nothing: every message got an answer.</td></tr>"
    header = "".join(
        f"<th>{h}</th>" for h in ("text", "language", "outcome", "confidence", "guessed intent", "count", "last seen")
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>IOM assistant: conversations review, {escape(period)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>IOM assistant: what people asked</h1>
<p>{escape(period)} · {escape(source)} · generated {escape(generated)} · personal data redacted</p>
</header>
<main>
<div class="tiles">{tiles}</div>
<div class="charts">{''.join(figures)}</div>
<section>
<h2>Not answered well ({len(groups)} distinct messages)</h2>
<p>Not understood, out of scope, or answered with a classifier confidence below {min_confidence:g};
near-identical messages counted once. All of them: <a href="unanswered.csv">unanswered.csv</a>; as Rasa
training data with a guessed intent: <a href="unanswered_nlu.yml">unanswered_nlu.yml</a>.</p>
<table><tr>{header}</tr>{rows}</table>
</section>
{recheck}
</main>
</body>
</html>
"""
