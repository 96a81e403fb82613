"""Rasa's command line, started faster: `python -m server.rasa_cli run ...` = `rasa run ...`.

Before Rasa is imported it calls `server.install()` (server/__init__.py), the one place that installs
server/'s replacements of Rasa internals:
- the server commands (`run`, `shell`) get all of them, each checked first: if the installed Rasa
  is not a version they were checked against, or an attribute they replace is missing or changed,
  it prints what is wrong and exits with status 1 instead of starting without them. Among them:
  TensorFlow, Matplotlib and dask are not imported (server/lean.py);
- every command that loads a model (all but `run actions`) gets skops' trusted type lists from a
  file made once per installation (server/skops_types.py) instead of computing them at each start.

Everything else is Rasa's own `main()` with the same arguments. Plain `rasa ...` still works, with
Rasa's own code throughout: TensorFlow loaded, a slower start, and Rasa's 300 s timeout for the
action server instead of IOM_ACTION_TIMEOUT.
"""

import sys


def main() -> None:
    action_server = sys.argv[1:3] == ["run", "actions"]
    serves = sys.argv[1:2] in (["run"], ["shell"]) and not action_server
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
