"""server/internals.py: every private part of another library the project relies on is registered,
holds with the installed libraries, and a library upgrade that renamed one stops the program that
uses it at start, with a message naming the library, the name, and who uses it."""

from __future__ import annotations

import os
import subprocess
import textwrap

import pytest
from rasa.core.channels.socketio import SocketBlueprint
from rasa.core.tracker_store import TrackerStore
from sanic.server.protocols.http_protocol import HttpProtocol

import server
from server import internals
from server.internals import INTERNALS, Internal, Present
from tests.servers import BIN, MODEL, ROOT

pytestmark = pytest.mark.usefixtures("rasa_restored")
STREAM = "rasa.core.tracker_store:TrackerStore._stream_new_events"


def python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-c", textwrap.dedent(code)], cwd=ROOT,
                          env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("entry", INTERNALS, ids=[entry.target for entry in INTERNALS])
def test_each_registered_dependency_holds_with_the_installed_libraries(entry):
    assert entry.problem() is None
    assert (ROOT / entry.user_file).is_file(), f"{entry.used_by}: no such file"
    assert set(entry.phases) <= set(internals.PHASES)


def test_every_phase_passes_and_the_listing_names_them_all():
    for phase in internals.PHASES:
        assert internals.check(phase) == [], phase
    lines = internals.listing()
    assert len(lines) == len(INTERNALS) + sum(
        len(server.replaced_by(name)) for name in (*server.PATCHES, *server.ALWAYS))
    users = {entry.user_file for entry in INTERNALS}
    # The five places issue 23 named, and the others found since.
    assert {"components/intent_classifier.py", "components/sentence_featurizer.py",
            "server/drain.py", "channels/socketio.py", "server/tracker_store.py",
            "server/skops_types.py", "server/lock_store.py", "server/graph_runner.py",
            "server/action_session.py", "channels/telegram.py", "channels/whatsapp.py",
            "server/operations.py", "actions/action_server.py"} <= users


def test_a_renamed_attribute_fails_the_check_with_a_clear_message(monkeypatch):
    """A simulated upgrade: Rasa renames TrackerStore._stream_new_events."""
    monkeypatch.setattr(TrackerStore, "_publish_new_events", TrackerStore._stream_new_events,
                        raising=False)
    monkeypatch.delattr(TrackerStore, "_stream_new_events")
    problems = internals.check("server")
    assert problems == [
        f"rasa 3.6.21: {STREAM}: not found [server/tracker_store.py: publishes new events to the "
        "event broker]"]
    assert server.check(server.PATCHES) == problems
    monkeypatch.setenv("IOM_PERF_PATCHES", "validation,session,runner,timeout,start_wait")
    with pytest.raises(server.InternalsChanged) as error:
        server.install()
    assert problems[0] in str(error.value) and "server/internals.py" in str(error.value)


def test_a_lost_slot_and_a_changed_signature_are_named(monkeypatch):
    monkeypatch.setattr(HttpProtocol, "__slots__",
                        tuple(s for s in HttpProtocol.__slots__ if s != "recv_buffer"))

    def register(self, app, options, extra):
        pass

    monkeypatch.setattr(SocketBlueprint, "register", register)
    assert internals.check("server") == [
        "sanic 21.12.2: sanic.server.protocols.http_protocol:HttpProtocol: no slot recv_buffer "
        "[server/drain.py: which accepted connections still hold an unread request]"]
    assert internals.check("channel") == [
        "rasa 3.6.21: rasa.core.channels.socketio:SocketBlueprint.register: takes (self, app, "
        "options, extra), the replacement expects (self, app, options) [channels/socketio.py: "
        "overrides it (CORS left to Engine.IO)]"]


def test_a_channel_checks_its_own_when_rasa_creates_it(monkeypatch):
    from channels.socketio import SocketIOInput

    monkeypatch.delattr(SocketBlueprint, "register")
    with pytest.raises(server.InternalsChanged) as error:
        SocketIOInput.from_credentials({})
    assert "The socket.io channel cannot start" in str(error.value)
    # Sanic's Blueprint.register is still inherited: what is checked is Rasa's own.
    assert ("SocketBlueprint.register: not found in SocketBlueprint itself (only inherited) "
            "[channels/socketio.py") in str(error.value)


def test_the_rasa_server_refuses_to_start():
    """`python -m server.rasa_cli run`, as make run starts it, after a Sanic upgrade that dropped
    a slot server/drain.py reads: exit status 1, the problem named, nothing served."""
    result = python(f"""
        import runpy, sys
        from sanic.server.protocols.http_protocol import HttpProtocol
        HttpProtocol.__slots__ = tuple(s for s in HttpProtocol.__slots__ if s != "_http")
        sys.argv = ["server.rasa_cli", "run", "--model", "{MODEL}", "--port", "0"]
        runpy.run_module("server.rasa_cli", run_name="__main__")
    """)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Not starting:" in result.stderr
    assert "sanic 21.12.2: sanic.server.protocols.http_protocol:HttpProtocol: no slot _http " \
           "[server/drain.py" in result.stderr
    assert "Starting Rasa server" not in result.stderr + result.stdout


def test_training_refuses_to_start(tmp_path):
    """`python -m server.rasa_cli train`, as make train runs it, on a Rasa whose classifier no
    longer has the `_create_X` our classifier overrides: nothing trained."""
    result = python(f"""
        import runpy, sys
        from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
        LogisticRegressionClassifier._create_features_matrix = LogisticRegressionClassifier._create_X
        del LogisticRegressionClassifier._create_X
        sys.argv = ["server.rasa_cli", "train", "nlu", "--out", "{tmp_path}"]
        runpy.run_module("server.rasa_cli", run_name="__main__")
    """)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Not starting: rasa train: private parts of other libraries it relies on have " \
           "changed" in result.stderr
    assert "LogisticRegressionClassifier._create_X: not found [components/intent_classifier.py" \
           in result.stderr
    assert not list(tmp_path.glob("*.tar.gz"))


def test_the_action_server_refuses_to_start():
    """`rasa run actions` (rasa-sdk's own start, which imports the actions package) on a rasa-sdk
    whose create_app names its Sanic app otherwise: actions/action_server.py would find no app
    and serve no metrics, silently; the action server stops instead."""
    result = python("""
        import importlib.util, inspect, pathlib, sys, tempfile
        import rasa_sdk.endpoint as endpoint
        renamed = pathlib.Path(tempfile.mkdtemp()) / "endpoint_renamed.py"
        renamed.write_text(inspect.getsource(endpoint).replace('Sanic("rasa_sdk"', 'Sanic("sdk"'))
        spec = importlib.util.spec_from_file_location("endpoint_renamed", renamed)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        endpoint.create_app = module.create_app  # what rasa-sdk's own run() calls
        from rasa_sdk.__main__ import main
        sys.argv = ["rasa_sdk", "--actions", "actions", "--port", "0"]
        main()
    """)
    assert result.returncode != 0
    assert "The action server cannot start: private parts of other libraries it relies on have " \
           "changed" in result.stderr
    assert "rasa_sdk.endpoint:create_app: its code no longer contains 'Sanic(\"rasa_sdk\"'" \
           in result.stderr


def test_an_entry_of_an_unchosen_replacement_is_not_checked(monkeypatch):
    """A dependency of the `runner` replacement matters only when it is installed."""
    entry = next(e for e in INTERNALS if e.patch == "runner")
    broken = Internal(entry.library, entry.target + "_gone", entry.used_by, Present(),
                      patch="runner")
    assert internals.check("server", patches=("validation",), entries=[broken]) == []
    assert len(internals.check("server", patches=("runner",), entries=[broken])) == 1
