"""server/ and components/ replace pieces of Rasa to save CPU; each must give what Rasa's own code
gives. Compared on the trained model (models/iom.tar.gz) and the hold-out sentences, and, for the
HTTP session, against real HTTP servers on 127.0.0.1. Every test gets Rasa's own code back
afterwards (the `rasa_restored` fixture, tests/conftest.py)."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import aiohttp
import jsonschema
import pytest
import yaml
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

import server
from components.intent_classifier import LogisticRegressionClassifier
from components.sentence_featurizer import SentenceCountVectorsFeaturizer
from server import action_session, action_start, action_validation, graph_runner, patching
from tests.processes import free_port
from tests.tools.evaluate_holdout import load_examples
from tests.servers import MODEL, ROOT

pytestmark = pytest.mark.usefixtures("rasa_restored")

HOLDOUT = [
    text
    for path in sorted((ROOT / "tests" / "nlu_holdout").glob("*.yml"))
    for text, _ in load_examples(path)
]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    assert Path(MODEL).exists(), "train first (make train)"
    return Agent.load(str(MODEL))


def nodes_using(agent, cls):
    runner = agent.processor.graph_runner
    return [
        (name, node)
        for name, node in runner._instantiated_nodes.items()
        if isinstance(getattr(node, "_component", None), cls)
    ]


# --- graph runner ----------------------------------------------------------------------------

# Rasa's own `DaskGraphRunner.run`, to compare with (whether or not a test installed ours).
DASK_RUN = patching.original(graph_runner.RUN)

def test_graph_runner_parses_like_dask(agent, monkeypatch):
    def parse_all(run):
        monkeypatch.setattr(DaskGraphRunner, "run", run)
        return [asyncio.run(agent.parse_message(text)) for text in HOLDOUT]

    ours, dask = parse_all(graph_runner.run), parse_all(DASK_RUN)
    for text, a, b in zip(HOLDOUT, ours, dask):
        for result in (a, b):
            result.pop("message_id", None)
        assert a == b, text
    assert len(ours) > 600


def test_graph_runner_predicts_actions_like_dask(agent, monkeypatch):
    domain = agent.domain

    def predict(run, text):
        monkeypatch.setattr(DaskGraphRunner, "run", run)
        parse = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events(
            "runner", [ActionExecuted("action_listen"), UserUttered(text, parse["intent"],
                                                                     parse["entities"], parse)],
            domain.slots,
        )
        prediction = agent.processor._predict_next_with_tracker(tracker)
        return prediction.policy_name, prediction.probabilities, prediction.is_end_to_end_prediction

    for text in HOLDOUT[::25]:
        assert predict(graph_runner.run, text) == predict(DASK_RUN, text), text


def test_graph_runner_keeps_rasa_errors(agent):
    runner = agent.processor.graph_runner
    clashing = next(iter(runner._instantiated_nodes))
    from rasa.engine.exceptions import GraphRunError

    with pytest.raises(GraphRunError, match="clashes with a node name"):
        graph_runner.run(runner, inputs={PLACEHOLDER_MESSAGE: clashing},
                         targets=[agent.processor.model_metadata.nlu_target])


# --- featurizer and classifier -----------------------------------------------------------------

def featurized(agent, texts):
    """Messages as the classifier receives them (the output of the node it reads)."""
    (name, node), = nodes_using(agent, LogisticRegressionClassifier)
    runner = agent.processor.graph_runner
    source = runner._graph_schema.nodes[name].needs["messages"]
    messages = [UserMessage(text) for text in texts]
    return graph_runner.run(runner, inputs={PLACEHOLDER_MESSAGE: messages}, targets=[source])[source]


def test_sentence_featurizer_gives_rasas_sentence_features(agent):
    featurizers = nodes_using(agent, SentenceCountVectorsFeaturizer)
    assert len(featurizers) == 2  # words and character n-grams (config.yml)
    tokenized = featurized(agent, HOLDOUT)  # tokens are set by then
    for _, node in featurizers:
        component = node._component
        for message in tokenized[::7]:
            tokens = component._get_processed_message_tokens_by_attribute(message, TEXT)
            ours_seq, ours_sentence = component._create_features(TEXT, [tokens])
            rasa_seq, rasa_sentence = CountVectorsFeaturizer._create_features(component, TEXT, [tokens])
            assert ours_seq == [None]
            assert rasa_seq[0] is not None  # what is skipped: per-token rows
            assert (ours_sentence[0] != rasa_sentence[0]).nnz == 0
            assert ours_sentence[0].shape == rasa_sentence[0].shape


def test_classifier_matrix_is_rasas(agent):
    (_, node), = nodes_using(agent, LogisticRegressionClassifier)
    classifier = node._component
    messages = featurized(agent, HOLDOUT[:200])
    ours = classifier._create_X(messages)
    rasa = RasaLogisticRegressionClassifier._create_X(classifier, messages)
    assert ours.shape == rasa.shape and ours.shape[0] == 200
    assert (ours != rasa).nnz == 0
    one = classifier._create_X(messages[:1])
    assert (one != RasaLogisticRegressionClassifier._create_X(classifier, messages[:1])).nnz == 0


# --- action server response validation ---------------------------------------------------------

VALID = [
    {"events": [], "responses": []},
    {},
    {"events": [e.as_dict() for e in [
        SlotSet("topic", "director_general"), SlotSet("language", None), FollowupAction("action_listen"),
        ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 0.9}),
        BotUttered("Bonjour", {"buttons": [{"title": "a", "payload": "/a"}]}), Restarted(),
        SessionStarted(), ActiveLoop(None),
    ]], "responses": [{"text": "Amy E. Pope", "buttons": [], "custom": {}, "image": None}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "nonsense"}]},
    {"events": [{"event": "slot", "name": 3, "value": "x"}]},
    {"events": [{"name": "topic"}]},
    {"responses": [1, 2]},
    {"responses": {"text": "hi"}},
    [],
]


def rasa_verdict(response):
    try:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
        return True, None
    except jsonschema.ValidationError as error:
        return False, error.message


def our_verdict(response):
    try:
        RemoteAction._validate_action_result(None, response)
        return True, None
    except jsonschema.ValidationError as error:
        return False, error.message.split(". Failed to validate Action server response")[0]


@pytest.mark.parametrize("response", VALID + INVALID, ids=lambda r: json.dumps(r)[:40])
def test_action_response_validation_agrees_with_jsonschema(response):
    action_validation.install()
    assert our_verdict(copy.deepcopy(response)) == rasa_verdict(copy.deepcopy(response))


class AlwaysSays:
    """Stands in for jsonschema-rs's compiled validator to make it disagree with jsonschema."""

    def __init__(self, verdict):
        self.verdict = verdict

    def __call__(self, schema):
        return self

    def is_valid(self, instance):
        return self.verdict


def test_compiled_rejecting_a_valid_response_is_logged_and_jsonschema_decides(monkeypatch, caplog):
    monkeypatch.setattr(action_validation.jsonschema_rs, "Draft202012Validator", AlwaysSays(False))
    action_validation.install()
    with caplog.at_level("WARNING", logger="server.action_validation"):
        assert our_verdict(copy.deepcopy(VALID[2])) == (True, None)
    assert "Validators disagree: jsonschema-rs rejected" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="server.action_validation"):
        assert our_verdict(copy.deepcopy(INVALID[1])) == rasa_verdict(INVALID[1])
    assert caplog.text == ""  # both reject: no disagreement


def test_compiled_accepting_an_invalid_response_is_caught_by_the_spot_check(monkeypatch, caplog):
    monkeypatch.setattr(action_validation.jsonschema_rs, "Draft202012Validator", AlwaysSays(True))
    monkeypatch.setattr(action_validation, "SPOT_CHECK_EVERY", 3)
    action_validation.install()
    bad = {"events": [{"event": "slot", "name": 3, "value": "a secret the user typed"}]}
    verdicts = []
    with caplog.at_level("WARNING", logger="server.action_validation"):
        for _ in range(4):
            verdicts.append(our_verdict(copy.deepcopy(bad))[0])
    # Responses 1 and 4 are checked by jsonschema too: refused as Rasa refuses them, and logged.
    assert verdicts == [False, True, True, False]
    assert caplog.text.count("jsonschema-rs accepted an action server response that jsonschema "
                             "rejects") == 2
    assert "a secret the user typed" not in caplog.text  # where and which rule, not the content


def test_patch_selection():
    assert server.chosen("") == server.PATCHES == server.chosen("all")
    assert server.chosen("0") == () == server.chosen("none")
    assert server.chosen(" runner , validation") == ("runner", "validation")
    with pytest.raises(ValueError):
        server.chosen("turbo")


# --- pooled HTTP session -----------------------------------------------------------------------

async def serve(port: int, handler) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def test_session_is_reused_across_calls():
    action_session.install()
    connections = set()

    async def scenario():
        async def handler(request):
            connections.add(id(request.transport))
            return web.json_response({"echo": (await request.json())["n"]})

        port = free_port()
        runner = await serve(port, handler)
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        try:
            return [await endpoint.request(json={"n": n}, method="post", timeout=5) for n in range(5)]
        finally:
            await runner.cleanup()

    assert asyncio.run(scenario()) == [{"echo": n} for n in range(5)]
    assert len(connections) == 1


async def closing_server(requests: list):
    """A raw HTTP/1.1 server that records each request it receives (its JSON body, once read in
    full), answers the first request of a connection with keep-alive and closes the connection
    when a second request arrives on it, after reading it, without answering: a restarted action
    server, one whose keep-alive just ran out, or one that died while running the action, as the
    client sees them."""

    async def client(reader, writer):
        served = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = json.loads(await reader.readexactly(length))
            requests.append(body)
            if served == 1:
                writer.close()  # read, and no answer
                return
            payload = json.dumps({"echo": body["n"]}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Connection: keep-alive\r\nContent-Length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
            served += 1

    return await asyncio.start_server(client, "127.0.0.1", 0)


def call_twice(action: str, **endpoint_settings):
    """Two calls of `action` on one kept-alive connection of the closing server: their results
    (or the error of the second) and the requests the server received."""
    requests: list = []

    async def scenario():
        server_ = await closing_server(requests)
        port = server_.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook", **endpoint_settings)
        try:
            first = await endpoint.request(json={"next_action": action, "n": 1}, method="post",
                                           timeout=5)
            try:
                second = await endpoint.request(json={"next_action": action, "n": 2},
                                                method="post", timeout=5)
            except aiohttp.ClientError as error:
                second = error
            return first, second
        finally:
            server_.close()

    return asyncio.run(scenario()), [r["n"] for r in requests]


def test_a_cut_off_call_of_a_read_only_action_is_sent_once_more():
    action_session.install()
    (first, second), received = call_twice(
        "action_answer_fact", read_only_actions=["action_answer_fact"])
    assert (first, second) == ({"echo": 1}, {"echo": 2})
    assert received == [1, 2, 2]  # the second call reached the server twice: allowed for it


def test_a_cut_off_call_of_any_other_action_is_never_sent_twice():
    """The server read the request: the action may have run. Not sent again (the user gets
    "temporarily unavailable"), unlike before issue 23."""
    action_session.install()
    (first, second), received = call_twice(
        "action_book_appointment", read_only_actions=["action_answer_fact"])
    assert first == {"echo": 1}
    assert isinstance(second, aiohttp.ServerDisconnectedError)
    assert received == [1, 2]
    (first, second), received = call_twice("action_answer_fact")  # no read_only_actions set
    assert isinstance(second, aiohttp.ServerDisconnectedError) and received == [1, 2]


def test_the_read_only_actions_are_the_assistants_actions():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for path in (ROOT / "endpoints.yml", ROOT / "deploy" / "endpoints.yml"):
        listed = yaml.safe_load(path.read_text())["action_endpoint"]["read_only_actions"]
        assert listed and set(listed) <= set(domain["actions"]), path


def test_stopped_server_and_http_errors_raise_as_in_rasa():
    action_session.install()

    async def scenario():
        port = free_port()
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        with pytest.raises(aiohttp.ClientConnectorError):  # Rasa: "Couldn't connect"
            await endpoint.request(json={}, method="post", timeout=5)

        async def failing(request):
            return web.json_response({"error": "boom"}, status=500)

        runner = await serve(port, failing)
        try:
            with pytest.raises(ClientResponseError) as error:
                await endpoint.request(json={}, method="post", timeout=5)
            assert error.value.status == 500
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


# --- an action server still starting (server/action_start.py) -------------------------------------

def install_as_the_server_does(window: float = action_start.START_WINDOW) -> None:
    action_session.install()
    action_start.install(window)


def test_action_server_still_starting_is_waited_for():
    """`make run` starts both servers side by side: the first message may reach the Rasa server
    before the action server listens. It gets its answer once the action server is up."""
    install_as_the_server_does()
    calls = []

    async def scenario():
        async def handler(request):
            calls.append(await request.json())
            return web.json_response({"echo": calls[-1]["n"]})

        async def serve_late():
            await asyncio.sleep(0.6)
            return await serve(port, handler)

        port = free_port()
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        loop = asyncio.get_running_loop()
        started = loop.time()
        late = loop.create_task(serve_late())
        try:
            answer = await endpoint.request(json={"n": 1}, method="post", timeout=5)
            return answer, loop.time() - started
        finally:
            await (await late).cleanup()

    answer, waited = asyncio.run(scenario())
    assert answer == {"echo": 1}
    assert calls == [{"n": 1}]  # sent once: the refused attempts never reached it
    assert waited >= 0.6


def test_action_server_stopped_after_it_answered_fails_at_once():
    """Once the action server has answered, a refused connection means it stopped: the call fails
    as in Rasa, without waiting (the user gets "temporarily unavailable" quickly)."""
    install_as_the_server_does(window=30)

    async def scenario():
        async def handler(request):
            return web.json_response({"ok": True})

        port = free_port()
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        runner = await serve(port, handler)
        assert await endpoint.request(json={}, method="post", timeout=5) == {"ok": True}
        await runner.cleanup()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(aiohttp.ClientConnectorError):
            await endpoint.request(json={}, method="post", timeout=5)
        return loop.time() - started

    assert asyncio.run(scenario()) < 5  # not the 30 s of the start window


def test_action_server_that_answered_with_an_error_then_stopped_fails_at_once():
    """An error status is an answer too: the action server was up, so once it has stopped a
    refused connection is not waited out."""
    install_as_the_server_does(window=30)

    async def scenario():
        async def failing(request):
            return web.json_response({"error": "boom"}, status=500)

        port = free_port()
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        runner = await serve(port, failing)
        with pytest.raises(ClientResponseError):
            await endpoint.request(json={}, method="post", timeout=5)
        await runner.cleanup()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(aiohttp.ClientConnectorError):
            await endpoint.request(json={}, method="post", timeout=5)
        return loop.time() - started

    assert asyncio.run(scenario()) < 5  # not the 30 s of the start window


def test_action_server_that_never_starts_fails_when_the_start_window_ends():
    install_as_the_server_does(window=0.5)

    async def scenario():
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook")
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(aiohttp.ClientConnectorError):  # then "unavailable", as in Rasa
            await endpoint.request(json={}, method="post", timeout=5)
        return loop.time() - started

    waited = asyncio.run(scenario())
    assert 0.3 <= waited < 5  # waited for the window, then gave up
