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
- always: Rasa's timeout for action server calls, `rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT`
  (300 s), becomes IOM_ACTION_TIMEOUT (server/settings.py, default 5 s); and an action call whose
  connection is refused while the action server is still starting is sent again, for up to
  IOM_ACTION_START_WAIT seconds (default 10) after the start (server/action_start.py), so `make run`
  can start both servers side by side; each custom action call's outcome is noted for the
  metrics (server/action_outcome.py: failures by kind, the reply's language); and Rasa's
  `configure_app` is wrapped (server/hardening.py): unguarded input channels refused, the action
  server's secret sent with every action call, the body limit, security headers, no CORS headers
  without an Origin.
`IOM_PERF_PATCHES` chooses among the first four, for measuring each one: unset or `all` = every
one, `0` or `none` = Rasa's own code, or a comma-separated list such as `validation,runner`.

Checked at start, before anything is replaced: the installed Rasa is a version these replacements
were checked against (`RASA_VERSIONS`), and every replaced attribute exists and takes the
parameters its replacement expects. Otherwise `install()` raises `RasaInternalsChanged`, listing
each problem, and server/rasa_cli.py refuses to start: after an upgrade that renamed a function, a
replacement would otherwise be an attribute nobody calls, and the server would silently run
without it (or with Rasa's 300 s timeout).

For every command that loads a model, `install()` also serves skops' trusted type lists from a
file made once per installation (server/skops_types.py; skops' internals, not Rasa's).

`restore()` puts Rasa's originals back (tests that install replacements call it afterwards).
"""

from __future__ import annotations

import gc
import importlib.metadata
import os
from typing import Dict, List, Optional, Sequence, Tuple

from server.patching import RasaInternalsChanged, missing, replace, restore_all

__all__ = ["PATCHES", "RASA_VERSIONS", "RasaInternalsChanged", "check", "chosen", "install",
           "restore"]

PATCHES = ("validation", "session", "runner", "lean")
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
    from server import action_session, action_validation, graph_runner, lean

    return {"validation": action_validation, "session": action_session, "runner": graph_runner,
            "lean": lean}[name]


def replaced_attributes(names: Sequence[str]) -> Dict[str, Optional[Tuple[str, ...]]]:
    """Every attribute of Rasa the chosen replacements (and the action timeout) replace, with the
    parameters each replacement expects (None: not a function)."""
    from server import action_outcome, action_start, hardening

    targets: Dict[str, Optional[Tuple[str, ...]]] = {
        ACTION_TIMEOUT: None, **action_start.REPLACES, **action_outcome.REPLACES,
        **hardening.REPLACES}
    for name in names:
        targets.update(_module(name).REPLACES)
    return targets


def _unimportable(names: Sequence[str]) -> List[str]:
    """server/'s modules that cannot even be imported (they import names from Rasa's modules)."""
    problems = []
    for name in names:
        try:
            _module(name)
        except (ImportError, AttributeError) as error:
            problems.append(f"server/'s '{name}' replacement cannot be imported: {error!r}")
    return problems


def check(names: Sequence[str] = PATCHES) -> List[str]:
    """What is wrong with Rasa for these replacements: [] when they can all be installed."""
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
    return problems


def install(server: bool = True) -> Tuple[str, ...]:
    """The one entry point. `server`: the Rasa server commands (`run`, `shell`) get the
    replacements of Rasa internals; every command gets skops' cached trusted types. Returns the
    replacements installed. Raises RasaInternalsChanged (nothing replaced) if a check fails."""
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
        raise RasaInternalsChanged(
            "server/ cannot install its replacements of Rasa internals:\n  - "
            + "\n  - ".join(problems)
            + "\nCheck each replacement against the installed Rasa (server/__init__.py lists "
            "them), then update it and RASA_VERSIONS; until then, pin Rasa back (requirements.lock).")
    for name in names:
        _module(name).install()
    from server import action_outcome, action_start, hardening
    from server.settings import ACTION_START_WAIT
    from server.settings import ACTION_TIMEOUT as seconds

    hardening.install()
    action_start.install(ACTION_START_WAIT)  # after `session`: it wraps the `request` installed
    action_outcome.install()
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
