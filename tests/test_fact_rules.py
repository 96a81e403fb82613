"""Issue 22's rules, checked on every fact, every language, every message and every reply built
from them (so they hold for facts added later too):

- every fact has an `as_of` date and at least one source in every language;
- a source list is never a site's home page alone;
- an English answer never cites (or links) a French or Spanish page;
- a French or Spanish answer never cites another language's page where the facts file knows a page
  in the reader's language: when the fact has a page in that language, the answer cites it and no
  page marked for another language; and a French page is never given in Spanish (or the reverse)
  when the file pairs it with a page in the reader's language;
- a URL is never followed by punctuation (some apps take the full stop or bracket into the link):
  it is followed by a space, a line break or the end of the text.

The rules are written here, not taken from the code under test; the replies are built by it.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from typing import Dict, Iterable, List, Set, Tuple
from urllib.parse import urlsplit

import pytest

from actions.answers import fact_reply, follow_up_reply
from actions.facts import LANGUAGES, load_facts
from actions.membership import (
    membership_text,
    newest_members_text,
    observer_list_text,
    presence_text,
    since_text,
)

FACTS = load_facts()
DATA = FACTS.data
PARTS = ("title", "short", "long", "since")
URL = re.compile(r"https?://\S+")
# What may not follow a URL. (A URL's own last character is never one of these in our sources.)
GLUED = tuple(".,;:!?)]}»\"'…")
AS_OF = re.compile(r"^(19|20)\d{2}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
# Placeholders that stand for a URL (or several) in the messages.
URL_PLACEHOLDERS = {"url", "sources"}
SAMPLE_URL = "https://www.example.org/page"

# careers, data_research and voluntary_return are being rewritten for issue 20 (branch `public`),
# which follows these rules: until it lands they break them, and strict xfail makes this list go
# when they pass. careers: "…/careers." in its texts; data_research and voluntary_return cite a
# home page alone (migrationdataportal.org, www.iom.int).
AWAITING_ISSUE_20 = {"careers": "glued URL", "data_research": "home page", "voluntary_return": "home page"}


def page_language(url: str) -> str | None:
    """fr, es or en for a page marked as such (a language folder such as /fr/, or a host such as
    en.wikipedia.org); None for a page with no language mark (English or language-neutral)."""
    parts = urlsplit(url)
    host_label = (parts.hostname or "").split(".")[0]
    first_folder = parts.path.strip("/").split("/")[0].lower()
    for mark in (first_folder, host_label):
        if mark in ("fr", "es", "en"):
            return mark
    return None


def is_home_page(url: str) -> bool:
    """A site's home page: no path beyond an optional language folder (https://www.iom.int/es)."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    return not parts.query and (path == "" or path.lower() in ("fr", "es", "en"))


def cited(fact: Dict, lang: str) -> List[str]:
    """What an answer in `lang` cites, read from the facts file (not from the code under test)."""
    return (fact.get("sources_by_language") or {}).get(lang) or fact.get("sources") or []


def texts_of(fact: Dict, lang: str) -> List[str]:
    return [fact[part][lang] for part in PARTS if part in fact]


def urls_in(texts: Iterable[str]) -> List[str]:
    return [match.group(0) for text in texts for match in URL.finditer(text)]


def glued_urls(text: str) -> List[str]:
    """The URLs of `text` followed by punctuation (the URL as a link detector would take it)."""
    return [match.group(0) for match in URL.finditer(text) if match.group(0).endswith(GLUED)]


def known_pairs() -> Dict[str, Set[str]]:
    """A French page -> its Spanish version and back, where a fact cites them at the same place in
    `sources_by_language.fr` and `.es` (each marked with its language)."""
    pairs: Dict[str, Set[str]] = defaultdict(set)
    for fact in DATA["facts"].values():
        by_language = fact.get("sources_by_language") or {}
        french, spanish = by_language.get("fr") or [], by_language.get("es") or []
        if len(french) != len(spanish):
            continue
        for fr_page, es_page in zip(french, spanish):
            if page_language(fr_page) == "fr" and page_language(es_page) == "es":
                pairs[fr_page].add(es_page)
                pairs[es_page].add(fr_page)
    return pairs


PAIRS = known_pairs()


def fact_params():
    for fact_id in DATA["facts"]:
        marks = []
        if fact_id in AWAITING_ISSUE_20:
            marks = [pytest.mark.xfail(strict=True, reason=f"issue 20 rewrites it ({AWAITING_ISSUE_20[fact_id]})")]
        yield pytest.param(fact_id, marks=marks, id=fact_id)


def language_problems(fact: Dict, lang: str) -> List[str]:
    """Pages in the wrong language for an answer in `lang` (cited sources and links in its texts)."""
    pages = cited(fact, lang) + urls_in(texts_of(fact, lang))
    problems = []
    if lang == "en":
        problems += [f"English answer cites {url}" for url in pages if page_language(url) in ("fr", "es")]
        return problems
    other = {"fr": "es", "es": "fr"}[lang]
    everything = list(fact.get("sources") or [])
    for by_language in (fact.get("sources_by_language") or {}).values():
        everything += by_language
    everything += urls_in(t for part in PARTS if part in fact for t in fact[part].values())
    own = [url for url in everything if page_language(url) == lang]
    if own:
        if not any(page_language(url) == lang for url in cited(fact, lang)):
            problems.append(f"{lang} answer cites none of the fact's {lang} pages ({own[0]})")
        problems += [f"{lang} answer cites {url} though the fact has {own[0]}"
                     for url in pages if page_language(url) not in (None, lang)]
    for url in pages:
        if page_language(url) == other and PAIRS.get(url):
            problems.append(f"{lang} answer cites {url}; the file pairs it with {sorted(PAIRS[url])[0]}")
    return problems


@pytest.mark.parametrize("fact_id", fact_params())
def test_each_fact_follows_the_rules_in_every_language(fact_id):
    fact = DATA["facts"][fact_id]
    problems = []
    if not AS_OF.match(str(fact.get("as_of") or "")):
        problems.append(f"as_of missing or not a date: {fact.get('as_of')!r}")
    for lang in LANGUAGES:
        sources = cited(fact, lang)
        if not sources:
            problems.append(f"no source in {lang}")
        elif all(is_home_page(url) for url in sources):
            problems.append(f"{lang}: only a home page as source: {sources}")
        problems += language_problems(fact, lang)
        for text in texts_of(fact, lang):
            problems += [f"{lang}: URL glued to punctuation: {url}" for url in glued_urls(text)]
        # What the code makes of it: each answer, "more", "source?" and "since when?".
        replies = [fact_reply(FACTS, fact_id, lang, part).text for part in ("short", "long")]
        replies += [follow_up_reply(FACTS, intent, fact_id, None, lang).text for intent in ("ask_source", "ask_since_when")]
        for reply in replies:
            problems += [f"{lang}: URL glued to punctuation in a reply: {url}" for url in glued_urls(reply)]
    assert not problems, "\n".join(problems)


def _filled(template: str) -> str:
    """A message with its placeholders filled in, URL placeholders with a URL."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: SAMPLE_URL if name in URL_PLACEHOLDERS else "x" for name in names})


@pytest.mark.parametrize("key", list(DATA["messages"]))
def test_each_message_follows_the_rules_in_every_language(key):
    problems = []
    for lang in LANGUAGES:
        text = _filled(DATA["messages"][key][lang])
        problems += [f"{lang}: URL glued to punctuation: {url}" for url in glued_urls(text)]
        for url in urls_in([text]):
            language = page_language(url)
            if lang == "en" and language in ("fr", "es"):
                problems.append(f"English message links {url}")
            if lang in ("fr", "es") and language not in (None, lang):
                problems.append(f"{lang} message links {url}")
    assert not problems, "\n".join(problems)


def membership_replies() -> Iterable[Tuple[str, str]]:
    """Every membership reply: each state of the list, a state and a territory not on it."""
    codes = list(FACTS.states.rows) + ["LB", "TW"]
    for lang in LANGUAGES:
        for code in codes:
            yield f"{code} {lang}", membership_text(FACTS, code, lang)
            yield f"{code} {lang} since", since_text(FACTS, code, lang)
            yield f"{code} {lang} presence", presence_text(FACTS, code, lang)
        yield f"observers {lang}", observer_list_text(FACTS, lang)
        yield f"newest {lang}", newest_members_text(FACTS, lang)


def test_no_membership_reply_glues_a_url_to_punctuation():
    problems = [f"{where}: {url}" for where, text in membership_replies() for url in glued_urls(text)]
    assert not problems, "\n".join(problems)


# --- The rules themselves, on made-up cases (a broken rule would let everything through) ------------

@pytest.mark.parametrize("text, glued", [
    ("See https://www.iom.int/careers.", ["https://www.iom.int/careers."]),
    ("(https://www.iom.int/donate)", ["https://www.iom.int/donate)"]),
    ("at https://a.org/x, or", ["https://a.org/x,"]),
    ("See https://www.iom.int/careers", []),
    ("Source: https://a.org/x (as of 2025).", []),
    ("line https://a.org/x\nnext", []),
])
def test_glued_urls_are_found(text, glued):
    assert glued_urls(text) == glued


@pytest.mark.parametrize("url, language, home", [
    ("https://www.iom.int/fr/qui-sommes-nous", "fr", False),
    ("https://iom.int/es/terminos-fundamentales-sobre-migracion", "es", False),
    ("https://en.wikipedia.org/wiki/International_Organization_for_Migration", "en", False),
    ("https://www.iom.int/member-states", None, False),
    ("https://www.iom.int", None, True),
    ("https://www.iom.int/es", "es", True),
    ("https://www.migrationdataportal.org", None, True),
    ("https://france.iom.int/fr", "fr", True),
])
def test_page_language_and_home_pages(url, language, home):
    assert page_language(url) == language and is_home_page(url) == home


def test_the_language_rules_catch_what_the_issue_describes():
    english_cites_french = {"sources": ["https://www.iom.int/fr/qui-sommes-nous"], "short": {"en": "x"}}
    assert language_problems(english_cites_french, "en")
    spanish_forgets_its_page = {
        "sources": ["https://www.iom.int/x"],
        "sources_by_language": {"es": ["https://www.iom.int/x"], "fr": ["https://www.iom.int/fr/x"]},
        "short": {"es": "ver https://www.iom.int/es/quienes-somos"},
    }
    assert language_problems(spanish_forgets_its_page, "es")  # the fact has a Spanish page, not cited
    fr, es = "https://www.iom.int/fr/qui-sommes-nous", "https://www.iom.int/es/quienes-somos"
    assert es in PAIRS[fr]  # the file pairs them (identity and others)
    spanish_cites_paired_french = {"sources": ["https://www.iom.int/y"], "sources_by_language": {"es": [fr]}}
    assert language_problems(spanish_cites_paired_french, "es")
    french_only_page = {"sources": ["https://en.wikipedia.org/wiki/X"],
                        "sources_by_language": {"fr": ["https://www.iom.int/fr/diversite-et-inclusion"]}}
    assert not language_problems(french_only_page, "es")  # no Spanish page known: the English one
