"""server.install(), the one entry point of server/'s replacements of Rasa internals: the start-up
check (a Rasa upgrade that renames or changes a replaced internal stops the server, loudly), the
undo, and the lean server's pieces (server/lean.py, server/skops_types.py) against Rasa's and skops'
own behaviour. What runs the Rasa server is checked in a separate Python process; every test gets
Rasa's own code back afterwards (`rasa_restored`, tests/conftest.py)."""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import threading

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.storage import ModelMetadata
from rasa.utils.endpoints import EndpointConfig

import server
from server import action_session, action_start, lean, patching, skops_types
from tests.servers import BIN, MODEL, ROOT

pytestmark = pytest.mark.usefixtures("rasa_restored")

# server.install() in this process: lean's import hook must come before Rasa is imported, and this
# process has imported Rasa already (lean is checked in a fresh process below).
WITHOUT_LEAN = "validation,session,runner,timeout,start_wait"


def python(code: str, env=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-c", textwrap.dedent(code)], cwd=ROOT,
                          env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def own_values():
    """Each replaced attribute as its owner holds it (not through descriptors)."""
    values = {}
    for target in server.replaced_attributes(server.PATCHES):
        module, _, path = target.partition(":")
        owner = importlib.import_module(module)
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part)
        values[target] = inspect.getattr_static(owner, name)
    return values


# --- the check at start -------------------------------------------------------------------------

def test_installed_rasa_passes_the_check():
    assert server.check(server.PATCHES) == []
    # Every replacement declares what it replaces; the action timeout, the action outcome
    # (server/action_outcome.py) and Rasa's configure_app (server/hardening.py) are always there.
    assert len(server.replaced_attributes(server.PATCHES)) == 11


def test_install_then_restore_gives_rasas_own_code_back(monkeypatch):
    from server.settings import ACTION_TIMEOUT

    monkeypatch.setenv("IOM_PERF_PATCHES", WITHOUT_LEAN)
    before = own_values()
    assert server.install() == ("validation", "session", "runner", "timeout", "start_wait")
    after = own_values()
    changed = [target for target in before if after[target] is not before[target]]
    not_installed = set(lean.REPLACES) | {
        "rasa.core.actions.action:RemoteAction.action_response_format_spec"}  # only checked
    assert sorted(changed) == sorted(t for t in before if t not in not_installed)
    import rasa.core.actions.action as rasa_action

    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == ACTION_TIMEOUT != 300
    server.restore()
    assert all(own_values()[target] is value for target, value in before.items())
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 300


def test_none_chosen_is_rasas_own_behaviour(monkeypatch):
    """IOM_PERF_PATCHES=0: no speed-up replaced, not even the action timeout (Rasa's 300 s) or the
    wait for an action server still starting (a refused call fails at once). Only what is not a
    speed-up stays: the metrics' observer (it changes nothing) and the security wrapper of Rasa's
    web app (server/hardening.py)."""
    import rasa.core.actions.action as rasa_action

    from server import action_outcome, hardening

    monkeypatch.setenv("IOM_PERF_PATCHES", "0")
    assert server.install() == ()
    assert set(patching.replaced()) == {action_outcome.RUN, hardening.CONFIGURE_APP}
    assert EndpointConfig.request is patching.original(action_start.REQUEST)
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 300


def test_the_start_wait_wraps_whichever_request_is_installed(monkeypatch):
    """`start_wait` wraps Rasa's own request, or the kept session's when `session` is chosen."""
    monkeypatch.setenv("IOM_PERF_PATCHES", "start_wait")
    assert server.install() == ("start_wait",)
    assert EndpointConfig.request is action_start.request
    assert action_start._inner is patching.original(action_start.REQUEST)  # Rasa's own
    server.restore()
    monkeypatch.setenv("IOM_PERF_PATCHES", "session,start_wait")
    assert server.install() == ("session", "start_wait")
    assert EndpointConfig.request is action_start.request
    assert action_start._inner is action_session.request
    server.restore()
    assert EndpointConfig.request is patching.original(action_start.REQUEST)


def test_action_outcomes_are_counted_whichever_replacements_are_chosen(monkeypatch):
    """The metrics' action errors and reply language (server/action_outcome.py) in every
    IOM_PERF_PATCHES mode, Rasa's own code included."""
    from rasa.core.actions.action import RemoteAction

    from server import action_outcome

    monkeypatch.setenv("IOM_PERF_PATCHES", "0")
    assert server.install() == ()
    assert RemoteAction.run is action_outcome.run
    assert action_outcome._inner is patching.original(action_outcome.RUN)  # Rasa's own
    server.restore()
    assert RemoteAction.run is patching.original(action_outcome.RUN)


def test_a_renamed_internal_stops_the_install_before_anything_is_replaced(monkeypatch):
    monkeypatch.setenv("IOM_PERF_PATCHES", WITHOUT_LEAN)
    run = DaskGraphRunner.run
    monkeypatch.delattr(EndpointConfig, "session")  # as if Rasa had renamed it
    with pytest.raises(server.InternalsChanged) as error:
        server.install()
    assert "rasa.utils.endpoints:EndpointConfig.session: not found" in str(error.value)
    assert DaskGraphRunner.run is run  # checked first, nothing half-installed
    assert patching.replaced() == ()


def test_changed_parameters_and_other_versions_are_refused(monkeypatch):
    def validate(self, result, domain):
        return True

    monkeypatch.setattr(RemoteAction, "_validate_action_result", validate)
    problems = server.check(["validation"])
    assert problems == [
        "rasa.core.actions.action:RemoteAction._validate_action_result: takes "
        "(self, result, domain), the replacement expects (self, result)"]

    monkeypatch.setattr(server.importlib.metadata, "version", lambda name: "3.7.0")
    assert server.check(server.PATCHES) == [
        "Rasa 3.7.0 is installed; server/ replaces internals of Rasa 3.6.21 only"]


def test_a_missing_deferred_module_is_reported(monkeypatch):
    monkeypatch.setattr(lean, "DEFERRED", lean.DEFERRED + ("rasa.utils.no_such_module",))
    assert server.check(["lean"]) == [
        "rasa.utils.no_such_module: module not found (server/lean.py defers it)"]


@pytest.mark.parametrize("module", ["server.rasa_cli", "perf.rasa_cli"])
def test_the_server_refuses_to_start_when_a_replaced_internal_was_renamed(module):
    """`python -m server.rasa_cli run`, as make run starts it (and the contract's `python -m
    perf.rasa_cli run`), on a Rasa whose EndpointConfig.request is called EndpointConfig.send:
    exit status 1, the problem named."""
    result = python(f"""
        import runpy, sys
        from rasa.utils.endpoints import EndpointConfig
        EndpointConfig.send = EndpointConfig.request
        del EndpointConfig.request
        sys.argv = ["{module}", "run", "--model", "{MODEL}", "--port", "1"]
        runpy.run_module("{module}", run_name="__main__")
    """, timeout=120)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Not starting: server/ cannot install its replacements of Rasa internals" in result.stderr
    assert "rasa.utils.endpoints:EndpointConfig.request: not found" in result.stderr
    assert "Starting Rasa server" not in result.stderr + result.stdout


# --- deferred modules (server/lean.py) ------------------------------------------------------------

@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package whose module `heavy` records each run of its code."""
    root = tmp_path / "lean_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("RUNS = []\n")
    (root / "heavy.py").write_text(
        "import time\nfrom lean_pkg import RUNS\nRUNS.append('heavy')\ntime.sleep(0.05)\n"
        "VALUE = 42\n\ndef double(x):\n    return 2 * x\n")
    (root / "user_a.py").write_text("import lean_pkg.heavy\n")
    (root / "user_b.py").write_text("import lean_pkg.heavy as heavy\n\ndef use():\n"
                                    "    return heavy.double(heavy.VALUE)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    finder = lean.DeferringFinder(["lean_pkg.heavy"])
    sys.meta_path.insert(0, finder)
    yield importlib.import_module("lean_pkg")
    sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n.startswith("lean_pkg")]:
        del sys.modules[name]


def test_a_deferred_module_runs_once_on_first_use(package):
    import lean_pkg.user_a  # noqa: F401
    import lean_pkg.user_b

    heavy = sys.modules["lean_pkg.heavy"]
    assert package.RUNS == [] and lean.is_deferred(heavy) and not lean.loaded("lean_pkg.heavy")
    inspect.getmodule(test_a_deferred_module_runs_once_on_first_use)  # scans sys.modules
    assert package.RUNS == []
    assert lean_pkg.user_b.use() == 84
    assert package.RUNS == ["heavy"] and lean.loaded("lean_pkg.heavy")
    from lean_pkg.heavy import VALUE

    assert VALUE == 42 and package.RUNS == ["heavy"]
    assert heavy.__loader__.__class__.__name__ == "SourceFileLoader"  # a plain module now


def test_a_deferred_module_used_by_two_threads_at_once_runs_once(package):
    import lean_pkg.user_b

    results = []
    threads = [threading.Thread(target=lambda: results.append(lean_pkg.user_b.use()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [84] * 4 and package.RUNS == ["heavy"]


# --- the channels package, its names served on first use (server/lean.py) ------------------------

CHANNEL_NAMES = """
    import json, sys
    import rasa.core.channels as channels
    from rasa.core.run import console  # as rasa/core/run.py imports it
    before = sorted(m for m in ("slack_sdk", "webexteamssdk", "google.auth", "questionary")
                    if m in sys.modules)
    builtin = {name: [cls.__module__, cls.__name__] for name, cls in channels.BUILTIN_CHANNELS.items()}
    classes = [[cls.__module__, cls.__name__] for cls in channels.input_channel_classes]
    named = {name: getattr(channels, name).__name__ for name in
             ("SlackInput", "RestInput", "UserMessage", "OutputChannel", "InputChannel",
              "CollectingOutputChannel")}
    print(json.dumps([before, builtin, classes, named, console.record_messages.__name__]))
"""


def test_channels_package_gives_rasas_names_on_first_use():
    lean_result = python("import server; server.install(server=True)\n" + textwrap.dedent(CHANNEL_NAMES))
    rasa_result = python(CHANNEL_NAMES)
    assert lean_result.returncode == 0, lean_result.stderr[-3000:]
    assert rasa_result.returncode == 0, rasa_result.stderr[-3000:]
    lean_before, *lean_names = json.loads(lean_result.stdout.strip().splitlines()[-1])
    rasa_before, *rasa_names = json.loads(rasa_result.stdout.strip().splitlines()[-1])
    assert lean_names == rasa_names
    assert len(lean_names[0]) == 15 and lean_names[0]["rest"][1] == "RestInput"
    assert rasa_before == ["google.auth", "questionary", "slack_sdk", "webexteamssdk"]
    assert lean_before == []  # nothing imported until a channel is looked up


def test_a_changed_channels_package_is_refused(monkeypatch):
    assert lean.channels_init_changed() == []
    monkeypatch.setattr(lean, "CHANNELS_INIT_SHA256", "0" * 64)
    problems = server.check(["lean"])
    assert len(problems) == 1
    assert "rasa/core/channels/__init__.py: changed" in problems[0]


# --- the model's training graph, read on first use (server/lean.py) -----------------------------

def model_metadata() -> dict:
    with tarfile.open(MODEL) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("metadata.json"))
        return json.load(archive.extractfile(member))


def test_metadata_is_rasas_with_the_training_graph_resolved_later():
    serialized = model_metadata()
    rasa = ModelMetadata.from_dict(copy.deepcopy(serialized))
    patching.replace(lean.FROM_DICT, classmethod(lean.from_dict))
    ours = ModelMetadata.from_dict(copy.deepcopy(serialized))
    assert "_nodes" not in vars(ours.train_schema)  # not resolved yet
    assert isinstance(ours.train_schema, GraphSchema)
    assert ours.predict_schema == rasa.predict_schema
    assert ours.train_schema == rasa.train_schema and rasa.train_schema == ours.train_schema
    assert ours.as_dict() == rasa.as_dict() == ModelMetadata.from_dict(serialized).as_dict()
    assert copy.deepcopy(ours).train_schema.nodes == rasa.train_schema.nodes


def test_lean_server_parses_like_rasa_and_resolves_the_training_graph_on_demand():
    """The model loaded after server.install() (fresh process) against Rasa's own loading (this
    process): same parses of hold-out sentences, without TensorFlow until the training graph
    is asked for."""
    from rasa.core.agent import Agent

    from tests.tools.evaluate_holdout import load_examples

    sentences = [text for path in sorted((ROOT / "tests" / "nlu_holdout").glob("*.yml"))
                 for text, _ in load_examples(path)][::40]
    result = python(f"""
        import asyncio, json, sys
        import server
        server.install(server=True)
        from rasa.core.agent import Agent
        agent = Agent.load("{MODEL}")
        parses = [asyncio.run(agent.parse_message(text)) for text in {sentences!r}]
        heavy = [m for m in ("tensorflow", "matplotlib",
                             "rasa.graph_components.validators.default_recipe_validator")
                 if m in sys.modules]
        nodes = sorted(agent.processor.model_metadata.train_schema.nodes)
        print(json.dumps([parses, heavy, nodes, "tensorflow" in sys.modules]))
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    parses, heavy, nodes, tensorflow_after = json.loads(result.stdout.strip().splitlines()[-1])
    assert heavy == []
    assert nodes == sorted(model_metadata()["train_schema"]["nodes"])
    assert tensorflow_after  # deferred, not removed: the recipe validator imports it when asked

    agent = Agent.load(str(MODEL))
    rasa = [json.loads(json.dumps(asyncio.run(agent.parse_message(text)))) for text in sentences]
    for ours, theirs in zip(parses, rasa):
        ours.pop("message_id", None), theirs.pop("message_id", None)
    assert parses == rasa and len(parses) > 10


def test_garbage_collection_is_paused_while_starting_and_back_once_the_model_is_loaded():
    result = python(f"""
        import asyncio, gc, json, types
        import server
        server.install(server=True)
        paused = not gc.isenabled()
        import rasa.core.run
        from rasa.core.utils import AvailableEndpoints
        app = types.SimpleNamespace(ctx=types.SimpleNamespace())
        loop = asyncio.new_event_loop()
        agent = loop.run_until_complete(rasa.core.run.load_agent_on_start(
            "{MODEL}", AvailableEndpoints(), None, app, loop))
        print(json.dumps([paused, gc.isenabled(), gc.get_freeze_count() > 100000,
                          agent.is_ready(), app.ctx.agent is agent]))
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True, True, True, True]


# --- skops' trusted types (server/skops_types.py) --------------------------------------------------

def test_cached_trusted_types_are_skops_own(tmp_path):
    cache = tmp_path / "types.json"
    written = subprocess.run([str(BIN / "python"), "-m", "server.skops_types"], cwd=ROOT,
                             env={**os.environ, "IOM_SKOPS_TYPES_FILE": str(cache)},
                             capture_output=True, text=True, timeout=300)
    assert written.returncode == 0, written.stderr[-2000:]
    fresh = python(f"""
        import json, skops.io._trusted_types as t
        print(json.dumps({{name: list(getattr(t, name)) for name in {skops_types.NAMES!r}}}))
    """)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    skops_own = json.loads(fresh.stdout.strip().splitlines()[-1])
    cached = json.loads(cache.read_text())
    assert cached["values"] == skops_own
    assert len(skops_own["SKLEARN_ESTIMATOR_TYPE_NAMES"]) > 100
    assert cached["key"] == skops_types.key()


def test_a_cache_for_other_versions_is_not_used(tmp_path, monkeypatch):
    cache = tmp_path / "types.json"
    monkeypatch.setenv("IOM_SKOPS_TYPES_FILE", str(cache))
    values = {name: ["builtins.int"] for name in skops_types.NAMES}
    cache.write_text(json.dumps({"key": {**skops_types.key(), "scikit-learn": "0.1"},
                                 "values": values}))
    assert skops_types.read() is None
    cache.write_text(json.dumps({"key": skops_types.key(), "values": values}))
    assert skops_types.read() == values
    cache.write_text("{not json")
    assert skops_types.read() is None


def test_the_classifier_loads_with_the_cached_types_without_importing_all_of_sklearn(tmp_path):
    cache = tmp_path / "types.json"
    env = {"IOM_SKOPS_TYPES_FILE": str(cache)}
    assert subprocess.run([str(BIN / "python"), "-m", "server.skops_types"], cwd=ROOT,
                          env={**os.environ, **env},
                          capture_output=True, timeout=300).returncode == 0
    with tarfile.open(MODEL) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith(".skops"))
        archive.extract(member, tmp_path)
    classifier = next(tmp_path.rglob("*.skops"))
    result = python(f"""
        import json, sys
        from server import skops_types
        print(skops_types.install())
        import skops.io as sio
        untrusted = sio.get_untrusted_types(file="{classifier}")
        model = sio.load("{classifier}", trusted=untrusted)
        print(json.dumps([untrusted, type(model).__name__, "sklearn.ensemble" in sys.modules]))
    """, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    cached, outcome = result.stdout.strip().splitlines()[-2:]
    assert cached == "True"
    # Rasa loads the classifier only when no type is untrusted: the same verdict as skops' own.
    assert json.loads(outcome) == [[], "LogisticRegression", False]


def test_the_start_up_imports_nothing_of_the_channels():
    """server.install() runs before Rasa is imported: it reads its settings from server/settings.py
    and pulls in neither channels/ (nor through it actions/, Lingua and privacy/)."""
    result = python("""
        import sys
        import server
        server.install(server=True)
        print(sorted(name for name in sys.modules
                     if name.split(".")[0] in ("channels", "actions", "privacy", "throttle", "lingua")))
    """, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
