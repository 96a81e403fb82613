"""The website chat widget, end to end, in Debian's real Chromium (headless, driven by Playwright).

Real action server + Rasa server (tests/servers.py) with the project's socket.io and REST channels,
the real page server (web/server.py) and the rasa-webchat bundle installed by npm ci.
Screenshots of the conversation are saved to artifacts/ (desktop and phone width).
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Dict, Iterator, List
from urllib.parse import urlsplit

import pytest

from tests.processes import free_port
from tests.servers import ROOT, Stack, web_conversation_id
from tests.web import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PageServer,
    ask,
    bot_texts,
    session_id,
    wait_for_bot,
    web_credentials,
)

FOREIGN = "http://evil.example"

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Dict]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run `make system-deps` (Debian chromium)"
    bundle = ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
    assert bundle.exists(), "rasa-webchat missing: run `make install` (npm ci in web/)"
    workdir = tmp_path_factory.mktemp("web")
    web_port = free_port()
    origins = [f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"]
    stack = Stack(
        workdir,
        credentials=web_credentials(),
        env={"IOM_ALLOWED_ORIGINS": ",".join(origins)},
        extra_rasa_args=["--cors", *origins],
    ).start()
    page = PageServer(workdir, web_port, stack.rasa_port, "web")
    # The same page served from an origin that is NOT allowed.
    foreign_page = PageServer(workdir, free_port(), stack.rasa_port, "web-foreign")
    try:
        yield {"stack": stack, "page": page, "foreign_page": foreign_page, "origins": origins}
    finally:
        foreign_page.stop()
        page.stop()
        stack.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_bilingual_conversation_in_the_browser(site, browser) -> None:
    stack, base = site["stack"], site["page"].url
    context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 860})
    page = context.new_page()
    outside: List[str] = []
    errors: List[str] = []

    def on_request(request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
            outside.append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # French page (browser language), greeting in French with topic buttons.
        page.goto(base + "/")
        assert page.evaluate("document.documentElement.lang") == "fr"
        assert "Assistant virtuel de l'OIM" in page.locator("h1").inner_text()
        wait_for_bot(page, r"^Bonjour")

        # A French question, answered from the facts, with its source as a real link.
        before = ask(page, "Où se trouve le siège de l'OIM ?")
        wait_for_bot(page, r"Genève", after=before)
        link = page.locator("#chat .rw-response a[href^='https://www.iom.int']").last
        link.wait_for()
        assert link.get_attribute("href").startswith("https://www.iom.int")
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in (link.get_attribute("rel") or "")
        secret = session_id(page)  # the session's secret, kept by the widget
        sender = web_conversation_id(secret)  # where the server keeps the conversation
        assert stack.slot(sender, "topic") == "headquarters"

        # A suggested button is clickable (and keyboard-focusable) and gets its answer.
        button = page.locator("#chat .rw-reply", has_text="Qui est l'OIM").last
        assert button.get_attribute("role") == "button"
        before = len(bot_texts(page))
        button.click()
        wait_for_bot(page, r"175 États membres", after=before)
        assert stack.slot(sender, "topic") == "identity"

        # Reload: the history is still on screen and the server continues the same conversation
        # (a follow-up about the last topic is answered: the reply reached the reloaded page).
        page.reload()
        wait_for_bot(page, r"Genève")
        wait_for_bot(page, r"175 États membres")
        assert session_id(page) == secret
        before = ask(page, "source ?")
        wait_for_bot(page, r"qui-sommes-nous", after=before)

        # Switch the page to English: English page, English answers.
        page.get_by_role("link", name="English").click()
        page.wait_for_url(re.compile(r"lang=en"))
        assert page.evaluate("document.documentElement.lang") == "en"
        assert "IOM virtual assistant" in page.locator("h1").inner_text()
        before = ask(page, "Where are the headquarters of IOM?")
        answer = wait_for_bot(page, r"Geneva", after=before)
        assert "Genève" not in answer
        assert session_id(page) == secret
        tracker = stack.tracker(sender)
        assert tracker["latest_message"]["metadata"] == {"language": "en"}

        # Markup typed by the user is shown as text and executes nothing.
        payload = (
            '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
            "[click](javascript:window.__xss=3)"
        )
        before = ask(page, payload)
        wait_for_bot(page, r".", after=before)
        page.wait_for_timeout(500)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("#chat img[src='x']").count() == 0
        assert page.locator("#chat script").count() == 0
        assert page.locator("#chat a[href^='javascript']").count() == 0
        assert payload in page.locator("#chat .rw-client").last.inner_text()

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web_widget.png"), full_page=True)

        # Phone width: nothing wider than the screen, the message box usable.
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#chat .rw-new-message").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.locator("#chat").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "web_widget_phone.png"), full_page=True)

        assert not outside, f"the page fetched from outside: {outside}"
        assert not errors, f"JavaScript errors: {errors}"
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web_widget_failure.png"), full_page=True)
        raise
    finally:
        context.close()


def test_spanish_page_in_the_browser(site, browser) -> None:
    """The Español switch: the page and widget in Spanish, Spanish answers with the Spanish
    source page, the choice remembered, and a browser set to Spanish opening in Spanish."""
    stack, base = site["stack"], site["page"].url
    errors: List[str] = []
    # A French browser that switches to Español with the page's own link.
    context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 860})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(base + "/")
        wait_for_bot(page, r"^Bonjour")
        page.get_by_role("link", name="Español").click()
        page.wait_for_url(re.compile(r"lang=es"))
        assert page.evaluate("document.documentElement.lang") == "es"
        assert page.locator("h1").inner_text() == "Asistente virtual de la OIM"
        assert "Organismo de las Naciones Unidas para la Migración" in page.locator(".intro").inner_text()
        assert page.title() == "OIM – Asistente virtual"
        assert page.locator(".lang-switch a[aria-current='true']").inner_text() == "Español"
        assert page.locator("#chat .rw-new-message").get_attribute("placeholder") == "Escriba su pregunta…"
        assert page.locator("#chat .rw-new-message").get_attribute("aria-label") == "Su mensaje"
        assert page.locator("#official-site").get_attribute("href") == "https://www.iom.int/es"

        # A Spanish question as people type it (no accents, no question mark): Spanish answer,
        # its source a link to the Spanish page.
        secret = session_id(page)  # the session's secret, kept by the widget
        sender = web_conversation_id(secret)  # where the server keeps the conversation
        before = ask(page, "que es la oim exactamente")
        answer = wait_for_bot(page, r"175 Estados Miembros", after=before)
        assert "Organización Internacional para las Migraciones" in answer
        link = page.locator("#chat .rw-response a[href='https://www.iom.int/es/quienes-somos']").last
        link.wait_for()
        assert link.get_attribute("target") == "_blank"
        assert stack.slot(sender, "topic") == "identity"
        assert stack.slot(sender, "language") == "es"

        # The follow-ups and a suggested topic button, in Spanish.
        before = ask(page, "desde cuando?")
        wait_for_bot(page, r"^Desde 1951", after=before)
        button = page.locator("#chat .rw-reply", has_text="Su historia").last
        assert button.get_attribute("role") == "button"
        before = len(bot_texts(page))
        button.click()
        wait_for_bot(page, r"diciembre de 1951", after=before)
        assert stack.slot(sender, "topic") == "history"
        before = ask(page, "cuéntame más")
        wait_for_bot(page, r"19 de octubre de 1953", after=before)
        before = ask(page, "y la sede?")
        wait_for_bot(page, r"Ginebra, Suiza", after=before)

        # Remembered: the bare address opens in Spanish again, same conversation.
        page.goto(base + "/")
        assert page.evaluate("document.documentElement.lang") == "es"
        wait_for_bot(page, r"Ginebra, Suiza")
        assert session_id(page) == secret

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web_widget_es.png"), full_page=True)
        # Phone width: the three language links still fit.
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not errors, f"JavaScript errors: {errors}"
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web_widget_es_failure.png"), full_page=True)
        raise
    finally:
        context.close()

    # A browser set to Spanish (Mexico) gets the Spanish page and greeting without choosing.
    context = browser.new_context(locale="es-MX")
    try:
        page = context.new_page()
        page.goto(base + "/")
        assert page.evaluate("document.documentElement.lang") == "es"
        wait_for_bot(page, r"^¡Hola! Soy el asistente de la OIM")
    finally:
        context.close()


def _websocket_status(port: int, origin: str) -> str:
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(200).decode(errors="replace").split("\r\n")[0]


def _headers(method: str, url: str, origin: str, body=None, extra=None) -> Dict[str, List[str]]:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Origin", origin)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (extra or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
    result = {k.lower(): headers.get_all(k) for k in headers.keys()}
    result[":status"] = [str(status)]
    return result


def test_other_origins_are_refused(site, browser) -> None:
    stack, allowed = site["stack"], site["origins"][0]
    handshake = stack.url + "/socket.io/?EIO=4&transport=polling"
    rest = stack.url + "/webhooks/rest/webhook"

    # socket.io: the Engine.IO handshake from a foreign origin is refused, over polling and
    # websocket; from the page's origin it is accepted with exactly one CORS header.
    refused = _headers("GET", handshake, FOREIGN)
    assert refused[":status"] == ["400"]
    assert "access-control-allow-origin" not in refused
    accepted = _headers("GET", handshake, allowed)
    assert accepted[":status"] == ["200"]
    assert accepted["access-control-allow-origin"] == [allowed]
    assert " 101 " not in _websocket_status(stack.rasa_port, FOREIGN) + " "
    assert " 101 " in _websocket_status(stack.rasa_port, allowed)

    # REST: no CORS permission for a foreign origin (simple request and preflight); granted to
    # the page's origin.
    message = {"sender": "cors-check", "message": "bonjour"}
    assert "access-control-allow-origin" not in _headers("POST", rest, FOREIGN, message)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    assert "access-control-allow-origin" not in _headers("OPTIONS", rest, FOREIGN, extra=preflight)
    assert _headers("POST", rest, allowed, message)["access-control-allow-origin"] == [allowed]
    assert "*" not in json.dumps(_headers("OPTIONS", rest, allowed, extra=preflight))

    # In the browser: the same page served from a port that is not allowed gets no
    # conversation and cannot call the REST channel; from the allowed page it can.
    fetch = """url => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({sender: 'browser-cors', message: 'bonjour'})})
        .then(r => 'ok ' + r.status, e => 'blocked ' + e)"""
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(site["page"].url + "/")
        assert page.evaluate(fetch, rest).startswith("ok 200")

        foreign = context.new_page()
        foreign.goto(site["foreign_page"].url + "/")
        foreign.wait_for_timeout(4000)
        assert foreign.locator("#chat .rw-response").count() == 0
        assert foreign.evaluate(fetch, rest).startswith("blocked")
    finally:
        context.close()


def test_allowed_origins_never_wildcard(monkeypatch) -> None:
    from channels.socketio import allowed_origins

    monkeypatch.delenv("IOM_ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("WEB_PORT", "8181")
    assert allowed_origins() == ["http://127.0.0.1:8181", "http://localhost:8181"]
    monkeypatch.setenv("IOM_ALLOWED_ORIGINS", " https://www.example.org/, *, http://x.org:81 ")
    assert allowed_origins() == ["https://www.example.org", "http://x.org:81"]
    monkeypatch.setenv("IOM_ALLOWED_ORIGINS", "*")
    with pytest.raises(ValueError):
        allowed_origins()
