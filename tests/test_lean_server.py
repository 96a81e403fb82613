"""The Rasa server started the way `make run` starts it loads no TensorFlow (server/lean.py).

Real action server and Rasa server: `python -m server.rasa_cli run` with the project's
credentials.yml (every channel), the windowed SQLite store and `--cors`, as scripts/run.sh starts
it (on free ports, with its own SQLite file). The server answers questions of several kinds, then
what it has loaded is read from outside, two ways: the shared libraries mapped into the process
(/proc/PID/maps: TensorFlow's and Matplotlib's compiled modules) and Python's own import log
(PYTHONPROFILEIMPORTTIME=1 writes one line per imported module to the server's log).
Training (`make train`) may still load TensorFlow: Rasa's trainer imports every component.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.servers import BIN, MODEL, ROOT, Stack, _wait, texts

# Small talk, facts (intent classifier + action server), a country (entity extractor), follow-ups
# and nonsense (fallback).
QUESTIONS = [
    "Bonjour", "Qui dirige l'OIM ?", "Where is IOM's headquarters?",
    "Est-ce que le Mali est membre ?", "dites-m'en plus", "source ?", "blorf zizzle",
    "merci, au revoir",
]
# Modules the server must not have run. Deferred ones (server/lean.py: dask, rasa.utils.train_utils,
# rasa.utils.plotting, rasa.core.channels.console) are named in the import log even if they never ran, so for them the log is
# checked for what their own code imports first.
NOT_LOADED = [
    "tensorflow", "keras", "tensorflow_hub", "tensorflow_addons", "matplotlib",
    "rasa.utils.tensorflow.callback",  # the first import of rasa.utils.train_utils's code
    "dask.base", "dask.local",  # dask's own package code
    "rasa.graph_components.validators.default_recipe_validator",  # the training graph
    "rasa.nlu.classifiers.diet_classifier", "rasa.core.policies.ted_policy",
    # SDKs of Rasa's built-in channels this assistant does not use (and the console's)
    "slack_sdk", "webexteamssdk", "google.auth", "questionary", "prompt_toolkit",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lean")
    stack = Stack(workdir, env={"PYTHONPROFILEIMPORTTIME": "1"})
    stack.start_actions()
    (workdir / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{stack.actions_port}/webhook"\n'
        "tracker_store:\n  type: server.tracker_store.WindowedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {stack.tracker_db}\n")
    # scripts/run.sh's command line, with this test's ports and files.
    stack.rasa = stack._spawn(
        [str(BIN / "python"), "-m", "server.rasa_cli", "run", "--model", str(MODEL),
         "--endpoints", str(workdir / "endpoints.yml"),
         "--credentials", str(ROOT / "credentials.yml"),
         "--interface", "127.0.0.1", "--port", str(stack.rasa_port),
         "--cors", "http://127.0.0.1:8080", "http://localhost:8080"],
        "rasa.log")
    _wait(stack.url + "/", stack.rasa, workdir / "rasa.log")
    yield stack
    stack.stop()


def imported_modules(log: Path) -> set:
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$",
                          log.read_text(errors="replace"), re.MULTILINE))


def test_answers_without_tensorflow(server):
    replies = {text: texts(server.say("lean-user", text)) for text in QUESTIONS}
    assert all(reply.strip() for reply in replies.values()), replies
    assert "Pope" in replies["Qui dirige l'OIM ?"]  # the fact, through classifier and actions

    maps = Path(f"/proc/{server.rasa.pid}/maps").read_text()
    libraries = {line.split()[-1] for line in maps.splitlines() if line.count(" ") >= 5}
    assert not [lib for lib in libraries if "tensorflow" in lib or "matplotlib" in lib]
    # The classifier and its libraries are there (the check reads the right process).
    assert any("sklearn" in lib for lib in libraries)

    modules = imported_modules(server.workdir / "rasa.log")
    # The log works (it lists `import` statements; importlib.import_module, e.g. Rasa loading a
    # graph component by name, is not logged, but what that module imports is).
    assert "rasa.server" in modules and "skops.io" in modules
    assert sorted(m for m in NOT_LOADED if m in modules) == []
