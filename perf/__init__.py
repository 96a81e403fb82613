"""Speed-ups for the Rasa server that live outside Rasa's own code (see BENCHMARKS.md).

`install()` puts in place the replacements of Rasa internals that do the same work with less
CPU: the action server response check (`validation`: perf/action_validation.py), one pooled
HTTP session per endpoint (`session`: perf/action_session.py) and the graph runner (`runner`:
perf/graph_runner.py). perf.tracker_store calls it on import, since that module is what
endpoints.yml makes the Rasa server load.

`IOM_PERF_PATCHES` chooses them, for measuring each one: unset or `all` = every one, `0` or
`none` = Rasa's own code, or a comma-separated list such as `validation,runner`.
"""

import os

PATCHES = ("validation", "session", "runner")
_installed = False


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


def install() -> None:
    global _installed
    if _installed:
        return
    from perf import action_session, action_validation, graph_runner

    modules = {"validation": action_validation, "session": action_session,
               "runner": graph_runner}
    for name in chosen(os.environ.get("IOM_PERF_PATCHES", "all")):
        modules[name].install()
    _installed = True
