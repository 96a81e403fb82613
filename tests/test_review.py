"""`make review` on a tracker store seeded with known conversations: the CSV's rows and counts are
exact, the NLU file is valid Rasa training data, the page's figures are right, and the page opens
in Debian's Chromium (Playwright) with every chart drawn and nothing fetched from anywhere."""

from __future__ import annotations

import csv
import html
import os
import re
import subprocess
import time
from datetime import date
from typing import Dict, List

import pytest
import yaml

from tests.servers import BIN, ROOT
from tests.tracker_seed import DAY, NOT_UNDERSTOOD_FR, Conversation, save, sqlite_store

NOW = time.time()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"


def conversations() -> List[Conversation]:
    fallback = dict(bot=NOT_UNDERSTOOD_FR, action="action_answer_fact")
    a = (Conversation("a", NOW - 2 * DAY)
         .turn("Bonjour", "greet", 0.9, buttons=[("Qui est l'OIM", "/ask_identity")])
         .turn("Qui dirige l'OIM ?", "ask_office", 0.85, topic="director_general",
               buttons=[("Histoire", "/ask_history"), ("États membres", "/ask_member_states")])
         .turn("/ask_history", "ask_history", 1.0, topic="history")
         .turn("quel temps fait-il à Genève ?", "out_of_scope", 0.8))
    b = (Conversation("b", NOW - 1 * DAY)
         .turn("Who leads IOM?", "ask_office", 0.9, channel="socketio", language="en",
               topic="director_general", buttons=[("History", "/ask_history")])
         .turn("/ask_history", "ask_history", 1.0, channel="socketio", language="en", topic="history")
         .turn("blorp zzz", "nlu_fallback", 0.25, channel="socketio", language="en",
               ranking=[("nlu_fallback", 0.25), ("ask_jobs", 0.12), ("greet", 0.1)], **fallback)
         .turn("Blorp ZZZ!", "nlu_fallback", 0.25, channel="socketio", language="en",
               ranking=[("nlu_fallback", 0.25), ("ask_jobs", 0.12)], **fallback))
    c = (Conversation("7001234", NOW - 5 * DAY)
         .turn("hola", "greet", 0.9, channel="telegram", language="es")
         .turn("¿Quién dirige la OIM?", "ask_office", 0.42, channel="telegram", language="es",
               ranking=[("ask_office", 0.42), ("ask_leadership", 0.3)], topic="director_general")
         .turn("quel temps fait-il a geneve", "out_of_scope", 0.7, channel="telegram", language="fr"))
    d = (Conversation("whatsapp:+33611111111", NOW - 3 * DAY)
         .turn("je cherche du travail au canada svp", "nlu_fallback", 0.25, channel="whatsapp",
               ranking=[("nlu_fallback", 0.25), ("ask_jobs", 0.2)], **fallback)
         .turn("je cherche du travail au canda svp", "nlu_fallback", 0.25, channel="whatsapp",
               ranking=[("nlu_fallback", 0.25), ("ask_jobs", 0.22)], **fallback)
         # Stored before redaction existed: the review redacts it again.
         .turn("mon numéro est 06 12 34 56 78", "nlu_fallback", 0.25, channel="whatsapp",
               ranking=[("nlu_fallback", 0.25), ("ask_return", 0.15)], **fallback)
         # The action server failed: nothing from the bot was stored.
         .turn("Qu'est-ce que l'OIM ?", "ask_identity", 0.9, channel="whatsapp", bot=None))
    e = Conversation("e", NOW - 10 * DAY).turn("vieux message hors période", "nlu_fallback", 0.25, **fallback)
    f = (Conversation("f", NOW - 10 * DAY)
         .turn("Bonjour", "greet", 0.9)
         .turn("et le visa ?", "out_of_scope", 0.6, at=NOW - 1 * DAY + 3600))
    # The classifier said inform_country, but the reply was "not understood".
    g = Conversation("g", NOW - 4 * DAY).turn("hmm", "inform_country", 0.6, bot=NOT_UNDERSTOOD_FR)
    return [a, b, c, d, e, f, g]


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("review")
    seeded = conversations()
    save(sqlite_store(workdir / "tracker.db"), seeded)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n")
    out = workdir / "reports"
    result = subprocess.run(
        [str(BIN / "python"), "-m", "review", "--endpoints", str(endpoints), "--days", "7", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout, {c.sender: c for c in seeded}


def _user_time(conversation: Conversation, text: str) -> float:
    return next(e.timestamp for e in conversation.events if getattr(e, "text", None) == text
                and e.type_name == "user")


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def test_unanswered_csv_rows_and_counts_are_exact(review):
    out, stdout, seeded = review
    t = {sender: (lambda text, c=c: _user_time(c, text)) for sender, c in seeded.items()}
    expected = [
        # count 2 first, most recent first; near-identical messages are one row.
        ["blorp zzz", "en", "not_understood", "nlu_fallback", "0.12", "ask_jobs", "2",
         _iso(t["b"]("blorp zzz")), _iso(t["b"]("Blorp ZZZ!"))],
        ["quel temps fait-il a geneve", "fr", "out_of_scope", "out_of_scope", "0.75", "out_of_scope", "2",
         _iso(t["7001234"]("quel temps fait-il a geneve")), _iso(t["a"]("quel temps fait-il à Genève ?"))],
        ["je cherche du travail au canada svp", "fr", "not_understood", "nlu_fallback", "0.21", "ask_jobs", "2",
         _iso(t["whatsapp:+33611111111"]("je cherche du travail au canada svp")),
         _iso(t["whatsapp:+33611111111"]("je cherche du travail au canda svp"))],
        ["et le visa ?", "fr", "out_of_scope", "out_of_scope", "0.60", "out_of_scope", "1",
         _iso(t["f"]("et le visa ?")), _iso(t["f"]("et le visa ?"))],
        ["mon numéro est [phone]", "fr", "not_understood", "nlu_fallback", "0.15", "ask_return", "1",
         _iso(t["whatsapp:+33611111111"]("mon numéro est 06 12 34 56 78")),
         _iso(t["whatsapp:+33611111111"]("mon numéro est 06 12 34 56 78"))],
        ["hmm", "fr", "not_understood", "inform_country", "0.60", "inform_country", "1",
         _iso(t["g"]("hmm")), _iso(t["g"]("hmm"))],
        ["¿Quién dirige la OIM?", "es", "low_confidence", "ask_office", "0.42", "ask_office", "1",
         _iso(t["7001234"]("¿Quién dirige la OIM?")), _iso(t["7001234"]("¿Quién dirige la OIM?"))],
    ]
    with open(out / "unanswered.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["text", "language", "outcome", "intent", "confidence", "guessed_intent", "count",
                       "first_seen", "last_seen"]
    assert rows[1:] == expected
    assert "17 messages in 6 conversations, 7 distinct messages not answered well" in stdout


def test_nlu_file_is_rasa_training_data_with_a_guessed_intent_per_message(review):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    out, _, _ = review
    text = (out / "unanswered_nlu.yml").read_text(encoding="utf-8")
    data = RasaYAMLReader().reads(text)
    by_intent: Dict[str, List[str]] = {}
    for example in data.intent_examples:
        by_intent.setdefault(example.get("intent"), []).append(example.get("text"))
    assert by_intent == {
        "ask_jobs": ["blorp zzz", "je cherche du travail au canada svp"],
        "ask_office": ["¿Quién dirige la OIM?"],
        "ask_return": ["mon numéro est [phone]"],
        "inform_country": ["hmm"],
        "out_of_scope": ["quel temps fait-il a geneve", "et le visa ?"],
    }
    assert data.entity_examples == []  # "[phone]" did not turn into an entity annotation
    assert "# language: es\n- intent: ask_office" in text


def _figure_rows(page: str, name: str) -> List[tuple]:
    figure = re.search(rf"<figure data-chart='{name}'>(.*?)</figure>", page, re.S)
    assert figure, name
    return [(html.unescape(label), int(count)) for label, count in
            re.findall(r"<tr><td>([^<]*)</td><td class='n'>(\d+)</td></tr>", figure.group(1))]


def test_page_figures_match_the_seeded_conversations(review):
    out, _, _ = review
    page = (out / "review.html").read_text(encoding="utf-8")
    assert _figure_rows(page, "per-channel") == [("rest", 6), ("socketio", 4), ("whatsapp", 4), ("telegram", 3)]
    assert _figure_rows(page, "per-language") == [("fr", 11), ("en", 4), ("es", 2)]
    assert _figure_rows(page, "per-topic") == [
        ("The Director General (director_general)", 3), ("Its history (history)", 2)
    ]
    assert _figure_rows(page, "outcome-share") == [
        ("answered", 4), ("answered, low confidence", 1), ("small talk", 2), ("not understood", 6),
        ("out of scope", 3), ("no answer (failure)", 1),
    ]
    assert _figure_rows(page, "clicks") == [("Histoire (/ask_history)", 2)]
    assert sum(count for _, count in _figure_rows(page, "per-day")) == 17
    assert "06 12 34 56 78" not in page


def test_page_lists_the_facts_to_recheck_as_check_facts_does(review):
    """Facts dated long ago (read from the facts file) are listed with their sources; the list is
    the one `make check-facts` prints (the same function, tests/test_check_facts.py)."""
    out, stdout, _ = review
    page = (out / "review.html").read_text(encoding="utf-8")
    section = page.split("data-section='to-recheck'", 1)[1].split("</section>", 1)[0]
    facts = yaml.safe_load((ROOT / "facts" / "facts.yml").read_text(encoding="utf-8"))["facts"]
    old = [fact_id for fact_id, fact in facts.items() if int(fact["as_of"][:4]) <= date.today().year - 2]
    assert "xenophobia" in old  # the 2020 statement
    for fact_id in old:
        assert f"({fact_id})</td><td>{facts[fact_id]['as_of']}</td>" in section, fact_id
    assert "<a href='https://www.iom.int/xenophobia'>https://www.iom.int/xenophobia</a>" in section
    assert f"{section.count('<tr>') - 1} facts to re-check" in stdout


def test_page_opens_in_chromium_with_its_charts_drawn_and_nothing_fetched(review):
    from playwright.sync_api import sync_playwright

    out, _, _ = review
    url = (out / "review.html").as_uri()
    requests: List[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url, wait_until="load")
            charts = page.eval_on_selector_all(
                "figure[data-chart]",
                """figures => figures.map(f => {
                    const svg = f.querySelector('svg');
                    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                    return {name: f.dataset.chart, width: box.width, height: box.height,
                            shapes: svg ? svg.querySelectorAll('path, rect, use').length : 0};
                })""",
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [url]  # the page itself, nothing else (no CDN, no font, no script)
    assert [c["name"] for c in charts] == [
        "per-day", "outcome-per-day", "outcome-share", "per-topic", "per-language", "per-channel", "clicks"
    ]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["shapes"] > 20, chart  # bars, axes and text drawn as paths


def test_an_empty_period_gives_a_page_that_says_so(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'none.db'}\n")
    result = subprocess.run(
        [str(BIN / "python"), "-m", "review", "--endpoints", str(endpoints), "--since", "2024-01-01",
         "--until", "2024-01-08", "--out", str(tmp_path / "out"), "--max-age-months", "1200"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "review.html").read_text()
    assert "Nothing: every message got an answer." in page
    assert "None: every fact is dated less than 1200 months ago." in page
    assert (tmp_path / "out" / "unanswered.csv").read_text().count("\n") == 1
    assert not (tmp_path / "none.db").exists()


def test_period_options_are_checked(tmp_path):
    result = subprocess.run(
        [str(BIN / "python"), "-m", "review", "--since", "yesterday"], cwd=ROOT, capture_output=True,
        text=True, timeout=60,
    )
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr


def test_review_reads_postgresql_the_same_way(review, tmp_path):
    """`ENDPOINTS=deploy/endpoints.yml make review`: the same conversations in a throw-away
    PostgreSQL database give the same CSV."""
    pytest.importorskip("psycopg2")
    from tests.cluster import create_database, db_settings, drop_database
    from tests.tracker_seed import postgresql_store

    out, _, seeded = review
    settings = db_settings()
    name = create_database(settings)
    try:
        save(postgresql_store(settings, name), list(seeded.values()))
        env = {**os.environ, **{k: v for k, v in settings.items() if k.startswith("DB_")}, "DB_NAME": name}
        result = subprocess.run(
            [str(BIN / "python"), "-m", "review", "--endpoints", str(ROOT / "deploy" / "endpoints.yml"),
             "--days", "7", "--out", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, env=env,
        )
        assert result.returncode == 0, result.stderr
    finally:
        drop_database(settings, name)
    assert (tmp_path / "unanswered.csv").read_text() == (out / "unanswered.csv").read_text()
