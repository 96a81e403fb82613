"""How many messages one person can send through the chat page in 30 s: the figure behind the
default per-sender limit IOM_RATE_LIMIT=40/30s (docs/operating.md, "Throttling").

Runs the real servers and the chat page (per-sender limit off), drives the widget in Chromium
(Playwright) and counts the messages sent in WINDOW seconds:
  buttons      clicking a suggested button the moment the answer shows it (no reading, no
               aiming: only the widget and the server set the pace);
  typing       a fast typist (WPM words of 5 characters a minute, one keystroke every 60/(5*WPM)
               s) typing the hold-out questions (shuffled) one after another, pressing Enter and starting
               the next at once, without waiting for answers;
  short        the same typist sending only the shortest hold-out messages (at most 12
               characters: "merci", "source ?", "OIM ?"...).
Usage: .venv/bin/python bench/input_rate.py [--wpm 120] [--window 30]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import free_port  # noqa: E402
from tests.servers import Stack  # noqa: E402
from tests.web import PageServer  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def holdout_messages() -> List[str]:
    texts: List[str] = []
    for path in sorted((ROOT / "tests" / "nlu_holdout").glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for block in data.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):  # entity markup [Kenya](country) -> Kenya
                    texts.append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]))
    return [t for t in texts if t]


def count_for(window: float, step: Callable[[], None]) -> int:
    sent, deadline = 0, time.monotonic() + window
    while time.monotonic() < deadline:
        step()
        sent += 1
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wpm", type=float, default=120)
    parser.add_argument("--window", type=float, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="iom-input-rate-"))
    web_port_origin = "http://127.0.0.1"
    stack = Stack(workdir, credentials=(ROOT / "credentials.yml").read_text(),
                  env={"IOM_RATE_LIMIT": "off", "TELEGRAM_TOKEN": "", "TWILIO_ACCOUNT_SID": "",
                       "TWILIO_AUTH_TOKEN": "", "TWILIO_WHATSAPP_NUMBER": ""})
    page_server = None
    try:
        # The page's origin must be allowed: start the page server first to know its port.
        stack.start_actions()
        page_port = free_port()
        stack.env["IOM_ALLOWED_ORIGINS"] = f"{web_port_origin}:{page_port}"
        stack.extra_rasa_args = ["--cors", f"{web_port_origin}:{page_port}"]
        stack.start_rasa()
        page_server = PageServer(workdir, page_port, stack.rasa_port, "web")
        url = f"http://127.0.0.1:{page_port}/?lang=fr"
        messages = holdout_messages()
        short = [m for m in messages if len(m) <= 12]
        random.Random(7).shuffle(messages)  # the file is grouped by intent: mix the lengths
        random.Random(7).shuffle(short)
        keystroke_ms = 60_000 / (5 * args.wpm)
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])

            def fresh_page():
                page = browser.new_page()
                page.goto(url)
                page.locator("#chat .rw-reply").first.wait_for(timeout=60_000)
                return page

            page = fresh_page()

            def click_next() -> None:
                before = page.locator("#chat .rw-response").count()
                page.locator("#chat .rw-reply").last.click()
                # The page's Content-Security-Policy forbids evaluated scripts: poll from here.
                deadline = time.monotonic() + 30
                while (page.locator("#chat .rw-response").count() <= before
                       or page.locator("#chat .rw-reply").count() == 0):
                    if time.monotonic() > deadline:
                        raise RuntimeError("no answer with buttons within 30 s")
                    page.wait_for_timeout(10)

            results["buttons"] = count_for(args.window, click_next)
            page.close()
            for name, texts in (("typing", messages), ("short", short)):
                page = fresh_page()
                box = page.locator("#chat .rw-new-message")
                queue = list(texts)

                def type_next() -> None:
                    box.type(queue.pop(0) if queue else "merci", delay=keystroke_ms)
                    box.press("Enter")

                results[name] = count_for(args.window, type_next)
                page.close()
            browser.close()
        lengths = sorted(len(m) for m in messages)
        print(f"\nMessages one person can send in {args.window:g} s through the chat page "
              f"(load average {os.getloadavg()[0]:.1f}):")
        print(f"  clicking buttons as soon as they appear: {results['buttons']}")
        print(f"  typing hold-out questions at {args.wpm:g} wpm ({keystroke_ms:.0f} ms a key, "
              f"median {lengths[len(lengths) // 2]} characters), no pause: {results['typing']}")
        print(f"  typing only messages of <= 12 characters ({len(short)} of them), no pause: "
              f"{results['short']}")
        return 0
    finally:
        if page_server is not None:
            page_server.stop()
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
