"""Rasa's command line, started faster: `python -m server.rasa_cli run ...` = `rasa run ...`.

Before Rasa is imported it calls `server.install()` (server/__init__.py), the one place that installs
server/'s replacements of Rasa internals:
- the server commands (`run`, `shell`) get all of them, each checked first: if the installed Rasa
  is not a version they were checked against, or an attribute they replace is missing or changed,
  it prints what is wrong and exits with status 1 instead of starting without them. Among them:
  TensorFlow, Matplotlib and dask are not imported (server/lean.py);
- every command that loads a model (all but `run actions`) gets skops' trusted type lists from a
  file made once per installation (server/skops_types.py) instead of computing them at each start.

RASA_AUTH_TOKEN: with `--enable-api` and neither `--auth-token` nor `--jwt-secret` on the command
line, the token of Rasa's HTTP API is taken from this environment variable, so that it is not on
the command line, which any user of the machine can read (`ps`, /proc/PID/cmdline). It is added
to Python's own copy of the arguments only. `--enable-api` with no token at all is refused: the
API would be open to anyone (CVE-2024-49375).

Everything else is Rasa's own `main()` with the same arguments. Plain `rasa ...` still works, with
Rasa's own code throughout: TensorFlow loaded, a slower start, and Rasa's 300 s timeout for the
action server instead of IOM_ACTION_TIMEOUT.
"""

import os
import sys

TOKEN_ENV = "RASA_AUTH_TOKEN"


def _api_token(argv: list) -> list:
    """`argv` with the API token of RASA_AUTH_TOKEN; SystemExit if the API would be open."""
    if "--enable-api" not in argv or any(
            arg.split("=")[0] in ("--auth-token", "--jwt-secret", "--jwt-private-key")
            for arg in argv):
        return argv
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"Not starting: --enable-api without a token would open Rasa's HTTP API to anyone; "
              f"set {TOKEN_ENV} (or drop --enable-api)", file=sys.stderr)
        sys.exit(1)
    return argv + ["--auth-token", token]


def main() -> None:
    action_server = sys.argv[1:3] == ["run", "actions"]
    serves = sys.argv[1:2] in (["run"], ["shell"]) and not action_server
    if serves:
        sys.argv = _api_token(sys.argv)
    if not action_server:
        import server

        try:
            server.install(server=serves)
        except server.RasaInternalsChanged as error:
            print(f"Not starting: {error}", file=sys.stderr)
            sys.exit(1)
    # Only now: server.install() must run before Rasa is imported.
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
