"""The chat page with keyboard, screen reader and low vision in mind (WCAG 2.1 AA, issue 24).

Debian's Chromium (headless, the project's pinned Playwright) on the real page server, with the
real Rasa and action servers (tests/servers.py). axe-core comes from web/node_modules (a pinned
dev dependency, `npm ci`) and is put into the page through the DevTools protocol
(`add_init_script`), so the page's Content-Security-Policy stays as it is served.

What axe cannot judge is checked from the page itself: where focus is after each keyboard step
and that it is outlined, the `lang` of each message, who said what for screen readers, contrast
computed from the computed styles, reduced motion, text spacing at 320 px, and the notice shown
when the Rasa server cannot be reached. Screenshots go to artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from tests.servers import ROOT, Stack, free_port
from tests.web import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PageServer, web_credentials

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Rules that must have run on real elements, or a clean axe result would prove nothing.
AXE_MUST_PASS = {"color-contrast", "html-lang-valid", "valid-lang", "label", "button-name", "link-name"}
REPLY_MS = 30_000
BOT = "#chat .rw-group-message .rw-response"
USER = "#chat .rw-group-message .rw-client"
BOX = "#chat .rw-new-message"
LANGUAGES = ["fr", "en", "es"]
# Questions written for these tests (none is a training sentence) and what their answers say.
QUESTIONS = {
    "fr": [("Dans quelle ville se trouve le siège de l'OIM ?", "Genève"),
           ("Qui est à la tête de l'OIM aujourd'hui ?", "Amy E. Pope")],
    "en": [("In which city is the IOM headquarters?", "Geneva"),
           ("Who is in charge of IOM today?", "Amy E. Pope")],
    "es": [("¿En qué ciudad tiene su sede la OIM?", "Ginebra"),
           ("¿Quién está al frente de la OIM hoy?", "Amy E. Pope")],
}
SPEAKERS = {
    "fr": ("Vous avez écrit :", "L'assistant :"),
    "en": ("You wrote:", "Assistant:"),
    "es": ("Usted escribió:", "Asistente:"),
}
NEW_TAB = {"fr": "(s'ouvre dans un nouvel onglet)", "en": "(opens in a new tab)",
           "es": "(se abre en una pestaña nueva)"}
SUGGESTIONS = {"fr": "Questions suggérées", "en": "Suggested questions", "es": "Preguntas sugeridas"}
UNREACHABLE = {
    "fr": "Impossible de joindre l'assistant pour le moment.",
    "en": "The assistant cannot be reached at the moment.",
    "es": "No se puede contactar con el asistente en este momento.",
}
# The text-spacing bookmarklet's values (WCAG 1.4.12).
TEXT_SPACING = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }"
)

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Dict]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run `make system-deps` (Debian chromium)"
    assert AXE.exists(), "axe-core missing: run `make install` (npm ci in web/)"
    workdir = tmp_path_factory.mktemp("web-a11y")
    web_port = free_port()
    origins = [f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"]
    stack = Stack(
        workdir,
        credentials=web_credentials(),
        env={"IOM_ALLOWED_ORIGINS": ",".join(origins)},
        extra_rasa_args=["--cors", *origins],
    ).start()
    page = PageServer(workdir, web_port, stack.rasa_port, "web")
    # The page as served when the Rasa server is down: it points at a port nobody listens on.
    unreached = PageServer(workdir, free_port(), free_port(), "web-unreached")
    try:
        yield {"stack": stack, "url": page.url, "unreached_url": unreached.url}
    finally:
        unreached.stop()
        page.stop()
        stack.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str, width: int = 1200, height: int = 860, **options):
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height}, **options)
    context.set_default_timeout(REPLY_MS)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return context, page, errors


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# --- the conversation --------------------------------------------------------------------------

def wait_for_greeting(page) -> None:
    page.locator(BOT).first.wait_for()
    settle(page)


def settle(page) -> None:
    """Waits until every bot message shown has its language and the latest carries buttons (the
    end of a turn: every answer of these tests ends with suggestions)."""
    from playwright.sync_api import expect

    expect(page.locator(f"{BOT}:not([lang])")).to_have_count(0)
    expect(page.locator("#chat .rw-group-message .rw-message").last.locator(".rw-reply").first).to_be_visible()


def bot_count(page) -> int:
    return page.locator(BOT).count()


def wait_for_answer(page, before: int, expected: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(BOT).nth(before)).to_be_visible()
    expect(page.locator(f"{BOT} .rw-message-text", has_text=expected).last).to_be_visible()
    settle(page)


def ask(page, question: str, expected: str) -> None:
    before = bot_count(page)
    box = page.locator(BOX)
    box.fill(question)
    box.press("Enter")
    wait_for_answer(page, before, expected)


def choose_first_suggestion(page) -> str:
    """Activates the first suggestion of the latest message with the keyboard; returns its label."""
    reply = page.locator("#chat .rw-replies:visible .rw-reply").first
    label = reply.inner_text().strip()
    before = bot_count(page)
    reply.focus()
    page.keyboard.press("Enter")
    from playwright.sync_api import expect

    expect(page.locator(BOT).nth(before)).to_be_visible()
    settle(page)
    return label


def message_texts(page) -> List[str]:
    """Each bot message's own text (without the "(opens in a new tab)" of its links), spaces folded."""
    return page.eval_on_selector_all(
        f"{BOT} .rw-message-text",
        """els => els.map(e => { const c = e.cloneNode(true);
            c.querySelectorAll('.iom-new-tab').forEach(n => n.remove());
            return c.textContent.split(/\\s+/).filter(Boolean).join(' '); })""",
    )


def assert_box_whole(page) -> None:
    """The message box and its focus ring are inside the chat panel (which cuts what overflows)."""
    panel = page.locator("#chat").bounding_box()
    box = page.locator(BOX).bounding_box()
    ring = 5  # outline 3px + offset 2px
    assert panel["y"] <= box["y"] - ring and box["y"] + box["height"] + ring <= panel["y"] + panel["height"], (panel, box)


def announcements(page) -> List[str]:
    """What the page's live region has said, one line per message, spaces folded."""
    return [" ".join(t.split()) for t in page.locator("#chat-announcements p").all_text_contents()]


# --- axe ----------------------------------------------------------------------------------------

def assert_axe_clean(page, state: str, must_pass=AXE_MUST_PASS) -> None:
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]
    assert not violations, f"axe, {state}:\n" + "\n".join(violations)
    passed = {rule["id"] for rule in result["passes"]}
    assert must_pass <= passed, f"axe, {state}: rules that found nothing to check: {must_pass - passed}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_nothing_loaded_after_a_suggestion_and_after_three_messages(site, browser, lang) -> None:
    context, page, errors = open_page(browser, f"{site['url']}/?lang={lang}")
    try:
        wait_for_greeting(page)
        assert_axe_clean(page, f"{lang}, loaded")

        choose_first_suggestion(page)
        assert_axe_clean(page, f"{lang}, after a suggestion")

        for question, expected in QUESTIONS[lang]:
            ask(page, question, expected)
        assert page.locator(USER).count() == 3
        assert_axe_clean(page, f"{lang}, after three messages")

        # The same conversation on a 320 px wide screen (WCAG 1.4.10's width).
        page.set_viewport_size({"width": 320, "height": 640})
        assert_axe_clean(page, f"{lang}, after three messages, 320 px")
        screenshot(page, f"a11y_axe_{lang}_320")
        assert not errors, errors
    finally:
        context.close()


# --- keyboard -----------------------------------------------------------------------------------

def focus_outline(page) -> Dict:
    return page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
        return {tag: e.tagName.toLowerCase(), cls: String(e.className || ''), role: e.getAttribute('role'),
                text: (e.textContent || '').trim().slice(0, 60), style: s.outlineStyle,
                width: parseFloat(s.outlineWidth), color: s.outlineColor,
                shadow: s.boxShadow}; }"""
    )


def assert_visibly_outlined(focus: Dict) -> None:
    assert focus["style"] not in ("none", "hidden") and focus["width"] >= 2, focus
    assert parse_color(focus["color"])[3] > 0, focus


def test_keyboard_only_conversation(site, browser) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, f"{site['url']}/?lang=fr")
    try:
        wait_for_greeting(page)
        box = page.locator(BOX)
        # From the top of the page, Tab by Tab to the message box; every stop is outlined.
        stops = []
        for _ in range(15):
            page.keyboard.press("Tab")
            focus = focus_outline(page)
            stops.append(focus)
            assert_visibly_outlined(focus)
            if "rw-new-message" in focus["cls"]:
                break
        assert "rw-new-message" in stops[-1]["cls"], [s["cls"] or s["tag"] for s in stops]
        assert stops[0]["cls"] == "skip-link"
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#chat .rw-sender").screenshot(path=str(ARTIFACTS / "a11y_focus_box.png"))

        # Type and press Enter: the question is sent, focus stays in the box.
        question, expected = QUESTIONS["fr"][0]
        before = bot_count(page)
        page.keyboard.type(question)
        page.keyboard.press("Enter")
        expect(box).to_be_focused()
        expect(box).to_have_value("")
        wait_for_answer(page, before, expected)
        expect(box).to_be_focused()

        # Shift+Tab reaches the latest answer's suggestions (the last one first), outlined.
        page.keyboard.press("Shift+Tab")
        focus = focus_outline(page)
        assert focus["role"] == "button" and "rw-reply" in focus["cls"], focus
        assert_visibly_outlined(focus)
        latest_buttons = page.locator("#chat .rw-replies:visible .rw-reply").all_inner_texts()
        assert focus["text"] == latest_buttons[-1].strip()
        page.locator("#chat .rw-replies:visible").screenshot(path=str(ARTIFACTS / "a11y_focus_reply.png"))

        # Enter activates it: the label is sent as the user's message, focus is back in the box
        # (not on <body>, which would send the next Tab to an old link).
        before = bot_count(page)
        page.keyboard.press("Enter")
        expect(page.locator(USER).last.locator(".rw-message-text")).to_have_text(focus["text"])
        expect(box).to_be_focused()
        expect(page.locator(BOT).nth(before)).to_be_visible()
        settle(page)
        expect(box).to_be_focused()
        assert_visibly_outlined(focus_outline(page))

        # Type, Tab to Send, press it: sent, and focus comes back to the box (the button is
        # disabled once the box is empty).
        question, expected = QUESTIONS["fr"][1]
        before = bot_count(page)
        page.keyboard.type(question)
        page.keyboard.press("Tab")
        focus = focus_outline(page)
        assert "rw-send" in focus["cls"], focus
        assert_visibly_outlined(focus)
        page.keyboard.press("Enter")
        expect(box).to_be_focused()
        wait_for_answer(page, before, expected)
        expect(box).to_be_focused()
        assert_visibly_outlined(focus_outline(page))
        assert_box_whole(page)
        screenshot(page, "a11y_keyboard")
        assert not errors, errors
    finally:
        context.close()


# --- language of each message -------------------------------------------------------------------

def langs(page, selector: str) -> List[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('lang'))")


def test_each_message_carries_its_own_language(site, browser) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, f"{site['url']}/?lang=fr")
    try:
        wait_for_greeting(page)
        assert langs(page, BOT) == ["fr"]

        # An English question on the French page: the question and its answer are English.
        question, expected = QUESTIONS["en"][0]
        ask(page, question, expected)
        assert page.evaluate("document.documentElement.lang") == "fr"
        answer = langs(page, BOT)[1:]
        assert answer and set(answer) == {"en"}, answer
        expect(page.locator(USER).last).to_have_attribute("lang", "en")
        # Its suggestions are English too; the group's name is the page's.
        assert set(langs(page, "#chat .rw-replies:visible .rw-reply")) == {"en"}
        assert page.locator("#chat .rw-replies:visible").get_attribute("aria-label") == SUGGESTIONS["fr"]

        # A French question: French again.
        question, expected = QUESTIONS["fr"][1]
        ask(page, question, expected)
        expect(page.locator(USER).last).to_have_attribute("lang", "fr")
        before_switch = langs(page, BOT)
        assert before_switch[-1] == "fr"

        # Switch the page to Spanish: earlier messages keep their languages.
        page.get_by_role("link", name="Español").click()
        page.wait_for_url(re.compile(r"lang=es"))
        wait_for_greeting(page)
        assert page.evaluate("document.documentElement.lang") == "es"
        assert langs(page, BOT) == before_switch
        assert langs(page, USER) == ["en", "fr"]
        # ...and "Assistant:" is said in the page's language, marked as such.
        speaker = page.locator(f"{BOT} .iom-speaker").first
        assert speaker.inner_text().strip() == SPEAKERS["es"][1] and speaker.get_attribute("lang") == "es"

        question, expected = QUESTIONS["es"][0]
        ask(page, question, expected)
        assert langs(page, BOT)[-1] == "es"
        expect(page.locator(USER).last).to_have_attribute("lang", "es")

        # The server's own notices carry their language too (too long: answered by the guard).
        before = bot_count(page)
        page.locator(BOX).fill("Please tell me everything about the International Organization. " * 20)
        page.locator(BOX).press("Enter")
        expect(page.locator(BOT).nth(before)).to_have_attribute("lang", "en")
        # A very long message above does not squeeze the message box out of the panel.
        assert_box_whole(page)
        screenshot(page, "a11y_languages")
        assert not errors, errors
    finally:
        context.close()


# --- who said what, and what is announced --------------------------------------------------------

def test_who_said_what_and_each_answer_announced_once(site, browser) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, f"{site['url']}/?lang=en")
    you, assistant = SPEAKERS["en"]
    try:
        wait_for_greeting(page)
        messages = page.locator("#chat .rw-messages-container")
        # The conversation is a named region, not a live region: additions to it (the user's own
        # message, a bubble the widget redraws) are not read out by themselves.
        assert messages.get_attribute("role") == "region"
        assert messages.get_attribute("aria-live") is None
        live = page.locator("#chat-announcements")
        assert live.get_attribute("aria-live") == "polite"
        greeting = message_texts(page)[0]
        expect(page.locator("#chat-announcements p")).to_have_count(1)
        assert announcements(page) == [f"{assistant} {greeting}"]

        question, expected = QUESTIONS["en"][0]
        ask(page, question, expected)
        texts = message_texts(page)
        expect(page.locator("#chat-announcements p")).to_have_count(len(texts))
        assert announcements(page) == [f"{assistant} {text}" for text in texts]
        assert not any(question in line for line in announcements(page))

        # Who said what, for screen readers, before each message.
        assert page.locator(f"{USER} .iom-speaker").last.inner_text().strip() == you
        speakers = page.locator(f"{BOT} > .iom-speaker").all_inner_texts()
        assert [s.strip() for s in speakers] == [assistant] * len(texts)

        # The suggestions are a named group outside the answer's text, only the latest shown.
        assert page.locator("#chat .rw-replies:visible").count() == 1
        group = page.locator("#chat .rw-replies:visible")
        assert group.get_attribute("role") == "group"
        assert group.get_attribute("aria-label") == SUGGESTIONS["en"]
        assert page.locator(f"{BOT} .rw-reply").count() == 0
        # Links that open a new tab say so.
        link = page.locator(f"{BOT} a[target='_blank']").last
        assert link.locator(".iom-new-tab").inner_text().strip() == NEW_TAB["en"]
        assert "noopener" in link.get_attribute("rel")

        # Choosing a suggestion leaves the answer it belongs to in place (not removed and
        # added again, which screen readers read twice) and announces only the new answer.
        source = page.locator(BOT).last.element_handle()
        assert texts[-1].startswith("Source")
        before = len(texts)
        choose_first_suggestion(page)
        assert source.evaluate("e => e.isConnected")
        texts = message_texts(page)
        new = texts[before:]
        assert new
        expect(page.locator("#chat-announcements p").last).to_contain_text(new[-1])
        # Every bot message so far, each once, in order (the region keeps the last six).
        assert len(texts) <= 6
        assert announcements(page) == [f"{assistant} {text}" for text in texts]

        # A reload shows the history without reading it out again.
        page.reload()
        wait_for_greeting(page)
        assert page.locator(BOT).count() == len(texts)
        assert announcements(page) == []
        assert not errors, errors
    finally:
        context.close()


# --- contrast -----------------------------------------------------------------------------------

def parse_color(value: str) -> Tuple[float, float, float, float]:
    match = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", value.strip())
    assert match, f"not an rgb() colour: {value!r}"
    r, g, b, a = match.groups()
    return float(r), float(g), float(b), float(a) if a is not None else 1.0


def over(color: Tuple[float, float, float, float], background: Tuple[float, float, float, float]):
    alpha = color[3]
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(color[:3], background[:3])) + (1.0,)


def luminance(color) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour (0-255 channels)."""
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one, other) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_luminance_and_contrast_match_wcag() -> None:
    white, black = (255, 255, 255, 1), (0, 0, 0, 1)
    assert contrast(white, black) == pytest.approx(21)
    assert contrast(parse_color("rgb(118, 118, 118)"), white) == pytest.approx(4.54, abs=0.01)
    # The figures of issue 24, from the old colours.
    assert contrast(parse_color("rgb(255, 191, 71)"), white) == pytest.approx(1.64, abs=0.01)
    assert contrast(parse_color("rgb(244, 246, 251)"), white) == pytest.approx(1.08, abs=0.01)
    assert over(parse_color("rgba(0, 0, 0, 0.5)"), white)[:3] == (127.5, 127.5, 127.5)


BACKGROUND_JS = """e => { let n = e;
  while (n) { const c = getComputedStyle(n).backgroundColor;
    if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; n = n.parentElement; }
  return 'rgb(255, 255, 255)'; }"""


def test_contrast_of_placeholder_focus_ring_and_field_edge(site, browser) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, f"{site['url']}/?lang=fr")
    try:
        wait_for_greeting(page)
        box = page.locator(BOX)
        field = parse_color(box.evaluate(BACKGROUND_JS))
        bar = parse_color(page.locator("#chat .rw-sender").evaluate(BACKGROUND_JS))
        messages = parse_color(page.locator("#chat .rw-messages-container").evaluate(BACKGROUND_JS))
        assert field[3] == bar[3] == messages[3] == 1

        # The placeholder, the field's only visible label: 4.5:1 on the field.
        placeholder = over(parse_color(box.evaluate("e => getComputedStyle(e, '::placeholder').color")), field)
        placeholder_ratio = contrast(placeholder, field)
        assert placeholder_ratio >= 4.5, placeholder_ratio

        # The field's edge: 3:1 against the input bar around it.
        edge = box.evaluate("e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopColor, s.borderTopStyle]; }")
        assert float(edge[0].rstrip("px")) >= 1 and edge[2] != "none", edge
        edge_ratio = contrast(over(parse_color(edge[1]), bar), bar)
        assert edge_ratio >= 3, edge_ratio

        # The focus ring, reached with the keyboard: 3:1 against white, the input bar and the
        # messages' background (the ring crosses them).
        box.focus()
        expect(box).to_be_focused()
        ring = focus_outline(page)
        assert_visibly_outlined(ring)
        ring_color = parse_color(ring["color"])
        ratios = {
            "white": contrast(over(ring_color, (255, 255, 255, 1)), (255, 255, 255, 1)),
            "input bar": contrast(over(ring_color, bar), bar),
            "messages": contrast(over(ring_color, messages), messages),
        }
        # On the blue header (the language switch) the ring is another colour: 3:1 there too.
        english = page.locator(".lang-switch a[data-lang='en']")
        english.focus()
        header_ring = over(parse_color(focus_outline(page)["color"]), (255, 255, 255, 1))
        header = parse_color(page.locator(".site-header").evaluate(BACKGROUND_JS))
        ratios["header"] = contrast(header_ring, header)
        assert min(ratios.values()) >= 3, ratios
        print(f"\nplaceholder {placeholder_ratio:.2f}:1, field edge {edge_ratio:.2f}:1, focus ring "
              + ", ".join(f"{v:.2f}:1 on {k}" for k, v in ratios.items()))
        assert not errors, errors
    finally:
        context.close()


# --- motion, text spacing, server unreachable ---------------------------------------------------

DURATIONS_JS = """() => { const seconds = v => Math.max(0, ...v.split(',').map(d =>
    d.trim().endsWith('ms') ? parseFloat(d) / 1000 : parseFloat(d)));
  let longest = 0, where = '';
  for (const e of document.querySelectorAll('*')) for (const pseudo of [null, '::before', '::after']) {
    const s = getComputedStyle(e, pseudo);
    const d = Math.max(seconds(s.animationDuration) * (s.animationName === 'none' ? 0 : 1),
                       seconds(s.transitionDuration));
    if (d > longest) { longest = d; where = e.tagName + '.' + e.className + (pseudo || ''); } }
  return [longest, String(where)]; }"""


def test_reduced_motion_is_honoured(site, browser) -> None:
    context, page, _ = open_page(browser, f"{site['url']}/?lang=en")
    try:
        wait_for_greeting(page)
        longest, where = page.evaluate(DURATIONS_JS)
        # Without the preference the widget does animate (so the check below can fail).
        assert longest > 0.1, (longest, where)
    finally:
        context.close()
    context, page, errors = open_page(browser, f"{site['url']}/?lang=en", reduced_motion="reduce")
    try:
        wait_for_greeting(page)
        question, expected = QUESTIONS["en"][0]
        ask(page, question, expected)
        longest, where = page.evaluate(DURATIONS_JS)
        assert longest <= 0.001, (longest, where)
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_text_spacing_at_320_px(site, browser, lang) -> None:
    context, page, errors = open_page(browser, f"{site['url']}/?lang={lang}", width=320, height=640)
    try:
        wait_for_greeting(page)
        page.add_style_tag(content=TEXT_SPACING)
        page.locator("#chat").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        for link in page.locator(".lang-switch a").all():
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, (link.inner_text(), box)
            assert link.evaluate("e => e.scrollWidth <= e.clientWidth"), link.inner_text()
        # The message box shows all of its placeholder, then all of a typed question.
        clipped = "e => e.scrollHeight > e.clientHeight"
        assert not page.locator(BOX).evaluate(clipped), page.locator(BOX).evaluate(
            "e => [e.scrollHeight, e.clientHeight, e.style.height]")
        screenshot(page, f"a11y_spacing_{lang}_320")
        page.locator(BOX).fill(QUESTIONS[lang][0][0])
        assert not page.locator(BOX).evaluate(clipped)
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unreachable_server_is_said_in_the_page_language(site, browser, lang) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_page(browser, f"{site['unreached_url']}/?lang={lang}")
    try:
        notice = page.locator("#chat-offline")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(UNREACHABLE[lang])
        assert notice.get_attribute("role") == "alert"
        assert page.evaluate("document.documentElement.lang") == lang
        assert "Waiting for server" not in page.locator("body").inner_text()
        screenshot(page, f"a11y_unreachable_{lang}")
        assert_axe_clean(page, f"{lang}, server unreachable", {"color-contrast", "html-lang-valid", "valid-lang"})
        assert not errors, errors
    finally:
        context.close()

