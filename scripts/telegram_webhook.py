"""Register, inspect or remove the Telegram bot's webhook, once, from the command line:

    .venv/bin/python scripts/telegram_webhook.py set-webhook https://bot.example.org/webhooks/telegram/webhook
    .venv/bin/python scripts/telegram_webhook.py webhook-info
    .venv/bin/python scripts/telegram_webhook.py delete-webhook

Reads the same TELEGRAM_* environment variables as the channel (channels/telegram.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.messaging import env  # noqa: E402
from channels.telegram import ALLOWED_UPDATES, DEFAULT_API_BASE_URL, SECRET_PATTERN  # noqa: E402


async def _call(method: Text, params: Dict[Text, Any]) -> Dict[Text, Any]:
    import aiohttp

    token = env("TELEGRAM_TOKEN")
    if not token:
        raise SystemExit("TELEGRAM_TOKEN is not set.")
    base = (env("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/bot{token}/{method}", json=params) as reply:
            return await reply.json(content_type=None)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/telegram_webhook.py",
        description="Register, inspect or remove the bot's webhook (uses the TELEGRAM_* "
        "environment variables).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    set_hook = commands.add_parser("set-webhook", help="point Telegram at this server")
    set_hook.add_argument("url", help="public HTTPS URL ending in /webhooks/telegram/webhook")
    commands.add_parser("webhook-info", help="what Telegram knows about the webhook")
    commands.add_parser("delete-webhook", help="stop sending updates to the webhook")
    args = parser.parse_args(argv)

    if args.command == "set-webhook":
        secret = env("TELEGRAM_WEBHOOK_SECRET")
        if not SECRET_PATTERN.match(secret):
            raise SystemExit(
                "TELEGRAM_WEBHOOK_SECRET must be set to 1-256 characters of A-Z a-z 0-9 _ -."
            )
        params = {"url": args.url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES}
        result = asyncio.run(_call("setWebhook", params))
    elif args.command == "webhook-info":
        result = asyncio.run(_call("getWebhookInfo", {}))
    else:
        result = asyncio.run(_call("deleteWebhook", {}))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
