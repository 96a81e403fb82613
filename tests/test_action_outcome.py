"""server/action_outcome.py: each way a custom action call fails is counted under its own kind,
and a successful call's reply language is noted on the turn. Rasa's own `RemoteAction.run`
against real HTTP servers on 127.0.0.1 (answering 500, 404, 400, malformed JSON, too late, or not
listening), so the exceptions are the ones Rasa really raises."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from server import action_outcome, metrics
from tests.servers import free_port

pytestmark = pytest.mark.usefixtures("rasa_restored")

GOOD = {"events": [{"event": "slot", "name": "language", "value": "es"}],
        "responses": [{"text": "Hola"}]}


def errors() -> dict:
    return {kind: metrics.ACTION_ERRORS.labels(kind)._value.get() for kind in metrics.ACTION_ERROR_KINDS}


async def call(port: int) -> None:
    action = RemoteAction("action_answer_fact", EndpointConfig(url=f"http://127.0.0.1:{port}/webhook"))
    await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}),
                     DialogueStateTracker("someone", []), Domain.empty())


def outcome(handler, monkeypatch) -> tuple:
    """(the kind counted, or None; the exception Rasa raised, or None) for one call."""
    monkeypatch.setattr("rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT", 0.5)
    action_outcome.install()

    async def scenario():
        port = free_port()
        runner = None
        if handler is not None:
            app = web.Application()
            app.router.add_post("/webhook", handler)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await call(port)
        finally:
            if runner is not None:
                await runner.cleanup()

    before = errors()
    raised = None
    try:
        asyncio.run(scenario())
    except Exception as error:
        raised = error
    counted = [kind for kind, count in errors().items() if count != before[kind]]
    assert len(counted) <= 1 and all(errors()[k] == before[k] + 1 for k in counted), counted
    return (counted[0] if counted else None), raised


async def answer_500(request):
    return web.json_response({"error": "an action raised"}, status=500)


async def answer_404(request):
    return web.json_response({"error": "no such action", "action_name": "x"}, status=404)


async def answer_400(request):
    return web.json_response({"error": "rejected", "action_name": "action_answer_fact"}, status=400)


async def answer_malformed(request):
    return web.json_response({"events": "not a list"})


async def answer_late(request):
    await asyncio.sleep(2)
    return web.json_response(GOOD)


async def answer_well(request):
    return web.json_response(GOOD)


@pytest.mark.parametrize("handler, kind", [
    (None, "unreachable"),
    (answer_500, "server_error"),
    (answer_404, "rejected"),
    (answer_400, "rejected"),
    (answer_malformed, "invalid_response"),
    (answer_late, "timeout"),
])
def test_each_failure_is_counted_under_its_kind_and_raised_as_before(handler, kind, monkeypatch):
    counted, raised = outcome(handler, monkeypatch)
    assert counted == kind
    assert raised is not None  # Rasa's behaviour unchanged: the processor logs it and carries on


def test_a_good_answer_counts_no_error_and_notes_the_reply_language(monkeypatch):
    turn = metrics.start_turn()
    counted, raised = outcome(answer_well, monkeypatch)
    assert (counted, raised) == (None, None)
    assert turn.language == "es"
