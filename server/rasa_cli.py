"""Rasa's command line, started faster: `python -m server.rasa_cli run ...` = `rasa run ...`.

Before Rasa is imported it calls `server.install()` (server/__init__.py), the one place that installs
server/'s replacements of Rasa internals:
- the server commands (`run`, `shell`) get all of them, each checked first: if the installed Rasa
  is not a version they were checked against, or an attribute they replace is missing or changed,
  it prints what is wrong and exits with status 1 instead of starting without them. Among them:
  TensorFlow, Matplotlib and dask are not imported (server/lean.py);
- every command that loads a model (all but `run actions`) gets skops' trusted type lists from a
  file made once per installation (server/skops_types.py) instead of computing them at each start;
- the commands that train or run the NLU pipeline (`train`, `test`, `interactive`) first check
  the private parts of Rasa our components rely on (server/internals.py, phase "train"), and stop
  with the list of what changed;
- `train` refuses a configuration that adds a component reading per-token features (DIET...) to
  our count-vectors featurizer, which makes none (components/sentence_featurizer.py).

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
from typing import List, Tuple

# Commands that run our NLU components (training them or parsing with them) outside the server.
PIPELINE_COMMANDS = ("train", "test", "interactive")


def _option(args: List[str], names: Tuple[str, ...], default: str) -> str:
    """The value of the option `names` among `args` (`--config x` or `--config=x`), else `default`."""
    for index, arg in enumerate(args):
        if arg in names and index + 1 < len(args):
            return args[index + 1]
        for name in names:
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return default


def refuse_configuration(config_file: str) -> None:
    """Training stops here, whatever Rasa's training cache holds, when the configuration combines
    our count-vectors featurizer (no per-token features) with a component that reads them
    (components/sentence_featurizer.py)."""
    from rasa.shared.exceptions import InvalidConfigException

    from components.sentence_featurizer import refuse_configuration as refuse

    try:
        refuse(config_file)
    except InvalidConfigException as error:
        print(f"Not training: {error}", file=sys.stderr)
        sys.exit(1)

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
        from server import internals

        try:
            server.install(server=serves)
            if sys.argv[1:2] and sys.argv[1] in PIPELINE_COMMANDS:
                internals.require("train", f"rasa {sys.argv[1]}")
        except server.InternalsChanged as error:
            print(f"Not starting: {error}", file=sys.stderr)
            sys.exit(1)
        if sys.argv[1:2] == ["train"]:
            refuse_configuration(_option(sys.argv[2:], ("-c", "--config"), "config.yml"))
    # Only now: server.install() must run before Rasa is imported.
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
