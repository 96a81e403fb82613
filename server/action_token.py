"""The secret the Rasa server sends with every call to the action server, and the action server
checks (actions/action_server.py): without it the action server answers 401, so nobody but the
Rasa server can have actions run, with forged trackers or forged slots.

The secret is IOM_ACTION_TOKEN from the environment: `make run` makes a random one per run when
none is set, `make run-scaled` one for all its servers, a deployment sets it for the Rasa servers
and the action servers alike (like any secret: never in the repository). When a process starts
without it (the contract's commands, `.venv/bin/rasa run actions` and `python -m perf.rasa_cli
run`, typed in two terminals), both read the same random secret of this installation instead:
`.venv/share/iom/action-token`, made by whichever process needs it first (mode 0600, outside the
repository).

Sent as the header `Authorization: Bearer <secret>` (not Rasa's `token` query parameter, which
would end up in URLs and access logs). Imports nothing but the standard library: the action server
reads it too.
"""

from __future__ import annotations

import hmac
import os
import secrets
import sys
from pathlib import Path
from typing import Optional

ENV = "IOM_ACTION_TOKEN"
HEADER = "Authorization"
SCHEME = "Bearer "
INSTALLATION_FILE = Path(sys.prefix) / "share" / "iom" / "action-token"


def _installation_token(path: Path = INSTALLATION_FILE) -> str:
    """This installation's secret, made on first use. Two processes starting together may both
    make one: the first to link its file wins, the other reads it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def token() -> str:
    """The shared secret: IOM_ACTION_TOKEN, else this installation's."""
    return (os.environ.get(ENV) or "").strip() or _installation_token()


def header_value(secret: Optional[str] = None) -> str:
    return SCHEME + (secret or token())


def valid(header: Optional[str], secret: str) -> bool:
    """Whether an Authorization header carries `secret` (compared in constant time)."""
    if not header or not header.startswith(SCHEME):
        return False
    return hmac.compare_digest(header[len(SCHEME):].strip().encode(), secret.encode())
