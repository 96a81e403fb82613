"""Speed-ups for the Rasa server that live outside Rasa's own code (see BENCHMARKS.md), and the one
place that installs them: `install()`, called by server/rasa_cli.py (how `make run`, the tests, the
benchmarks and the Docker image start Rasa) before Rasa is imported. Nothing in server/ or channels/
changes Rasa by being imported.

Replacements of Rasa internals, for the server commands (`run`, `shell`):
- `lean` (server/lean.py): TensorFlow, Matplotlib, dask and the SDKs of unused built-in channels
  are not imported (modules deferred to their first use, the model's training graph and the
  channels package's names read on first use);
- `validation` (server/action_validation.py): the action server's answer checked by a compiled
  validator;
- `session` (server/action_session.py): one kept-alive HTTP session per endpoint;
- `runner` (server/graph_runner.py): the model's graph run without dask;
- `timeout`: Rasa's timeout for action server calls, `rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT`
  (300 s), becomes IOM_ACTION_TIMEOUT (server/settings.py, default 5 s);
- `start_wait` (server/action_start.py): an action call whose connection is refused while the
  action server is still starting is sent again, for up to IOM_ACTION_START_WAIT seconds (default
  10) after the start, so `make run` can start both servers side by side.
`IOM_PERF_PATCHES` chooses among them: unset or `all` = every one, `0` or `none` = none, Rasa's own
behaviour throughout (300 s action timeout, no wait for a starting action server: scripts/run.sh
then starts the Rasa server once the action server answers), or a comma-separated list such as
`validation,runner` (for measuring each one: bench/levers.py).
Installed whatever IOM_PERF_PATCHES says (ALWAYS), because they are not speed-ups:
- `outcome` (server/action_outcome.py) only observes: each custom action call's outcome is noted
  for the metrics (failures by kind, the reply's language); the call and its errors are Rasa's own;
- `hardening` (server/hardening.py) wraps Rasa's `configure_app`: unguarded input channels
  refused, the action server's secret sent with every action call, the body limit, security
  headers, no CORS headers without an Origin.

Checked at start, before anything is replaced: the installed Rasa is a version these replacements
were checked against (`RASA_VERSIONS`), every replaced attribute exists and takes the parameters
its replacement expects, and every private part of Rasa, Sanic, aiohttp, skops... the server's code
relies on holds (server/internals.py, phase "server"). Otherwise `install()` raises
`InternalsChanged`, listing each problem, and server/rasa_cli.py refuses to start: after an
upgrade that renamed a function, a replacement would otherwise be an attribute nobody calls, and
the server would silently run without it (or with Rasa's 300 s timeout).

For every command that loads a model, `install()` also serves skops' trusted type lists from a
file made once per installation (server/skops_types.py; skops' internals, not Rasa's).

`restore()` puts Rasa's originals back (tests that install replacements call it afterwards).
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
from typing import Dict, List, Optional, Sequence, Tuple

from server.patching import InternalsChanged, missing, replace, restore_all

__all__ = ["ALWAYS", "PATCHES", "RASA_VERSIONS", "InternalsChanged", "check", "chosen", "install",
           "restore"]

PATCHES = ("validation", "session", "runner", "lean", "timeout", "start_wait")
# Installed whatever IOM_PERF_PATCHES says: not speed-ups (metrics' observer, security).
ALWAYS = ("outcome", "hardening")
# Versions of Rasa whose internals the replacements were read and tested against.
RASA_VERSIONS = ("3.6.21",)
ACTION_TIMEOUT = "rasa.core.actions.action:DEFAULT_REQUEST_TIMEOUT"

_installed: Optional[Tuple[str, ...]] = None


def chosen(setting: str) -> tuple:
    value = setting.strip().lower()
    if value in ("", "all", "1"):
        return PATCHES
    if value in ("0", "none"):
        return ()
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in PATCHES]
    if unknown:
        raise ValueError(f"IOM_PERF_PATCHES: unknown {unknown}; choose from {PATCHES}")
    return names


def _module(name: str):
    from server import (action_outcome, action_session, action_start, action_validation,
                        graph_runner, hardening, lean)

    return {"validation": action_validation, "session": action_session, "runner": graph_runner,
            "lean": lean, "start_wait": action_start, "outcome": action_outcome,
            "hardening": hardening}[name]


def replaced_by(name: str) -> Dict[str, Optional[Tuple[str, ...]]]:
    """The attributes of Rasa one replacement replaces, with the parameters it expects (None:
    not a function)."""
    if name == "timeout":
        return {ACTION_TIMEOUT: None}
    return dict(_module(name).REPLACES)


def replaced_attributes(names: Sequence[str]) -> Dict[str, Optional[Tuple[str, ...]]]:
    """Every attribute of Rasa the chosen replacements (and those installed always) replace."""
    targets: Dict[str, Optional[Tuple[str, ...]]] = {}
    for name in (*ALWAYS, *names):
        targets.update(replaced_by(name))
    return targets


def _unimportable(names: Sequence[str]) -> List[str]:
    """server/'s modules that cannot even be imported (they import names from Rasa's modules)."""
    problems = []
    for name in (*ALWAYS, *names):
        if name == "timeout":
            continue
        try:
            _module(name)
        except (ImportError, AttributeError) as error:
            problems.append(f"server/'s '{name}' replacement cannot be imported: {error!r}")
    return problems


def check(names: Sequence[str] = PATCHES) -> List[str]:
    """What is wrong for these replacements and for the server's other reach-ins into Rasa,
    Sanic, aiohttp... (server/internals.py): [] when the server can start."""
    version = importlib.metadata.version("rasa")
    if version not in RASA_VERSIONS:
        return [f"Rasa {version} is installed; server/ replaces internals of Rasa "
                f"{', '.join(RASA_VERSIONS)} only"]
    problems = _unimportable(names)
    if problems:
        return problems
    if "lean" in names:
        from server import lean

        problems += lean.missing_modules() + lean.channels_init_changed()
    for target, params in replaced_attributes(names).items():
        problem = missing(target, params)
        if problem:
            problems.append(problem)
    from server import internals

    return problems + internals.check("server", patches=names)


def install(server: bool = True) -> Tuple[str, ...]:
    """The one entry point. `server`: the Rasa server commands (`run`, `shell`) get the
    replacements of Rasa internals; every command gets skops' cached trusted types. Returns the
    replacements installed. Raises InternalsChanged (nothing replaced) if a check fails."""
    global _installed
    from server import skops_types

    skops_types.install()
    if not server:
        return ()
    if _installed is not None:
        return _installed
    names = chosen(os.environ.get("IOM_PERF_PATCHES", "all"))
    if "lean" in names:
        from server import lean

        # Before anything below imports Rasa's modules (which would import what it defers).
        lean.pause_garbage_collection()
        lean.install_import_hook()
    problems = check(names)
    if problems:
        restore()
        gc.enable()
        raise InternalsChanged(
            "server/ cannot install its replacements of Rasa internals:\n  - "
            + "\n  - ".join(problems)
            + "\nCheck each replacement against the installed Rasa (server/__init__.py lists "
            "them) and each reach-in against its library (server/internals.py), then update it, "
            "its entry and RASA_VERSIONS; until then, pin the library back (requirements.lock).")
    for name in names:
        if name not in ("timeout", "start_wait"):
            _module(name).install()
    if "start_wait" in names:
        from server import action_start
        from server.settings import ACTION_START_WAIT

        action_start.install(ACTION_START_WAIT)  # after `session`: it wraps the `request` installed
    for name in ALWAYS:
        _module(name).install()
    if "timeout" in names:
        from server.settings import ACTION_TIMEOUT as seconds

        replace(ACTION_TIMEOUT, seconds)
    _installed = names
    return names


def restore() -> None:
    """Rasa's own code again: every replaced attribute restored, import hooks removed."""
    global _installed
    from server import lean, skops_types

    restore_all()
    lean.uninstall_import_hook()
    skops_types.uninstall()
    _installed = None
