"""Every private part of another library this project relies on, in one list, checked at start.

The project leans on names other libraries do not promise to keep: private methods it overrides
(`_create_X`, `_create_features`), private attributes it reads (Sanic's connection slots, the graph
runner's nodes), internal modules it stands in for (skops' trusted types), a behaviour it counts
on (Sanic-CORS skipping a request marked evaluated). An upgrade that renames one does not fail
where it is used: an override nobody calls any more, a `getattr(..., None)` that is always None,
would silently stop doing its job. So each such dependency is an `Internal` in INTERNALS below,
and the programs that use them check all of theirs when they start, refusing to start with the
list of what changed:
- the Rasa server (phase "server"): `server.install()` (server/__init__.py, through
  server/rasa_cli.py: `make run`, the tests, the Docker image), with its checked replacements of
  Rasa internals (each server/ module's `REPLACES`, which `listing()` shows beside these);
- training and the other commands that run the NLU pipeline (phase "train"): server/rasa_cli.py
  before Rasa's own `main()` (`make train`);
- a channel (phase "channel"): the channel itself, when Rasa creates it from credentials.yml at the
  server's start (`require_for`), so that a channel nobody configured costs no import;
- the action server (phase "actions"): actions/__init__.py, imported when `rasa run actions` loads
  the actions package.
tests/test_internals.py lists every entry, checks it against the installed libraries, and checks
that a renamed attribute stops each program with a clear message.

Registering a new one (say, a private Sanic attribute read by a new middleware):

    Internal("sanic", "sanic.server.protocols.http_protocol:HttpProtocol",
             "server/ready.py: reads each connection's request stage",
             Slots("_http"), phases=("server",)),

- library: the distribution's name (its installed version goes into the message);
- target: "module:Qualified.name" (or "module" for a whole module);
- used_by: the file that relies on it and what for;
- expect: what must hold: `Params(...)` the parameter names of a function or method, `Present()`
  the name exists, `Slots(...)` a class declares these `__slots__`, `Assigns(...)` a function
  (usually `__init__`) sets these `self.` attributes, `Calls(...)` a function's or module's source
  still contains these fragments (an override is still called), `ModuleAssigns(...)` a module's
  file assigns these names (read without importing it), `Columns(...)` an SQLAlchemy model's
  columns;
- phases: which programs check it ("server", "channel", "train", "actions");
- patch: for a dependency of one of server/'s optional replacements (IOM_PERF_PATCHES), its name:
  checked only when that replacement is installed.
`used_by` must name an existing file (the test checks it), so an entry goes when its user goes.

Nothing here imports the libraries until a check runs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from server.patching import InternalsChanged, missing

__all__ = ["INTERNALS", "PHASES", "Internal", "InternalsChanged", "check", "listing", "require",
           "require_for"]

PHASES = ("server", "channel", "train", "actions")
ROOT = Path(__file__).resolve().parent.parent


def _resolve(target: str) -> Any:
    module_name, _, path = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in path.split(".") if path else ():
        value = inspect.getattr_static(value, part) if isinstance(value, type) else getattr(value, part)
    return value


def _function(value: Any) -> Any:
    if isinstance(value, (classmethod, staticmethod)):
        return value.__func__
    if isinstance(value, property):
        return value.fget
    return value


def _source(value: Any) -> str:
    return textwrap.dedent(inspect.getsource(_function(value)))


def _only_inherited(target: str) -> Optional[str]:
    """A class attribute the class no longer defines itself: an override of it (or a read of
    it) would then meet a base class's, not the one registered."""
    module_name, _, path = target.partition(":")
    if "." not in path:
        return None
    *parents, name = path.split(".")
    owner: Any = importlib.import_module(module_name)
    for part in parents:
        owner = getattr(owner, part)
    if isinstance(owner, type) and name not in vars(owner):
        return f"{target}: not found in {owner.__name__} itself (only inherited)"
    return None


class Expectation:
    """What must hold of a target; `names` are the parameters, slots, attributes or fragments."""

    def __init__(self, *names: str) -> None:
        self.names: Tuple[str, ...] = names

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.names!r}"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.names == self.names  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.names))

    def problem(self, target: str) -> Optional[str]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _lost(self, found: Iterable[str]) -> List[str]:
        found = set(found)
        return [name for name in self.names if name not in found]


class Params(Expectation):
    """A function or method taking exactly these parameters, in this order."""

    def problem(self, target: str) -> Optional[str]:
        return missing(target, self.names) or _only_inherited(target)

    def describe(self) -> str:
        return f"takes ({', '.join(self.names)})"


class Present(Expectation):
    def problem(self, target: str) -> Optional[str]:
        return missing(target) or _only_inherited(target)

    def describe(self) -> str:
        return "exists"


class Slots(Expectation):
    """A class whose `__slots__` (its own or its bases') hold these names."""

    def problem(self, target: str) -> Optional[str]:
        cls = _resolve(target)
        lost = self._lost(slot for klass in cls.__mro__ for slot in getattr(klass, "__slots__", ()))
        return f"{target}: no slot {', '.join(lost)}" if lost else None

    def describe(self) -> str:
        return f"has the slots {', '.join(self.names)}"


class Assigns(Expectation):
    """A function (usually `__init__`) that sets these attributes of `self`."""

    def problem(self, target: str) -> Optional[str]:
        tree = ast.parse(_source(_resolve(target)))
        lost = self._lost(
            node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name) and node.value.id == "self"
        )
        return f"{target}: no longer sets self.{', self.'.join(lost)}" if lost else None

    def describe(self) -> str:
        return f"sets self.{', self.'.join(self.names)}"


class Calls(Expectation):
    """A function's (or module's) source that still contains these fragments: an overridden
    private method is still called from there, a marker is still read."""

    def problem(self, target: str) -> Optional[str]:
        source = _source(_resolve(target))
        lost = [fragment for fragment in self.names if fragment not in source]
        return f"{target}: its code no longer contains {', '.join(map(repr, lost))}" if lost else None

    def describe(self) -> str:
        return f"contains {', '.join(map(repr, self.names))}"


class ModuleAssigns(Expectation):
    """A module whose file assigns these names at its top level, read without importing it (for a
    module the project stands in for: importing it would cost what the stand-in saves)."""

    def problem(self, target: str) -> Optional[str]:
        top, *rest = target.split(".")
        spec = importlib.util.find_spec(top)  # the top package is found, not run
        if spec is None or not spec.submodule_search_locations:
            return f"{target}: package {top} not found"
        path = Path(list(spec.submodule_search_locations)[0]).joinpath(*rest).with_suffix(".py")
        if not path.exists():
            return f"{target}: no file {path.name} in {path.parent}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lost = self._lost(
            name.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for name in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(name, ast.Name)
        )
        return f"{target}: no longer assigns {', '.join(lost)}" if lost else None

    def describe(self) -> str:
        return f"assigns {', '.join(self.names)}"


class Columns(Expectation):
    """An SQLAlchemy model whose table has exactly these columns, in this order."""

    def problem(self, target: str) -> Optional[str]:
        found = tuple(column.name for column in _resolve(target).__table__.columns)
        if found != self.names:
            return f"{target}: columns ({', '.join(found)}), expected ({', '.join(self.names)})"
        return None

    def describe(self) -> str:
        return f"has the columns {', '.join(self.names)}"


@dataclass(frozen=True)
class Internal:
    library: str
    target: str
    used_by: str
    expect: Expectation
    phases: Tuple[str, ...] = ("server",)
    patch: Optional[str] = None

    @property
    def user_file(self) -> str:
        return self.used_by.split(":")[0]

    def problem(self) -> Optional[str]:
        try:
            problem = self.expect.problem(self.target)
        except ImportError as error:
            problem = f"{self.target}: its module cannot be imported ({error})"
        except (AttributeError, OSError, TypeError) as error:
            problem = f"{self.target}: not found ({error})"
        if problem is None:
            return None
        try:
            version = importlib.metadata.version(self.library)
        except importlib.metadata.PackageNotFoundError:
            version = "(not installed)"
        return f"{self.library} {version}: {problem} [{self.used_by}]"

    def describe(self) -> str:
        when = "/".join(self.phases) + (f", with the '{self.patch}' replacement" if self.patch else "")
        return f"{self.library}: {self.target} {self.expect.describe()} [{self.used_by}] ({when})"


INTERNALS: Tuple[Internal, ...] = (
    # --- components/: Rasa's own components with cheaper private steps (training and serving) ---
    Internal("rasa", "rasa.nlu.classifiers.logistic_regression_classifier:"
             "LogisticRegressionClassifier._create_X",
             "components/intent_classifier.py: overrides it (the feature matrix)",
             Params("self", "messages"), phases=("train", "server")),
    Internal("rasa", "rasa.nlu.classifiers.logistic_regression_classifier:"
             "LogisticRegressionClassifier._create_training_matrix",
             "components/intent_classifier.py: its _create_X must be what training calls",
             Calls("self._create_X("), phases=("train",)),
    Internal("rasa", "rasa.nlu.classifiers.logistic_regression_classifier:"
             "LogisticRegressionClassifier.process",
             "components/intent_classifier.py: its _create_X must be what parsing calls",
             Calls("self._create_X("), phases=("train", "server")),
    Internal("rasa", "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:"
             "CountVectorsFeaturizer._create_features",
             "components/sentence_featurizer.py: overrides it (sentence rows only)",
             Params("self", "attribute", "all_tokens"), phases=("train", "server")),
    Internal("rasa", "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:"
             "CountVectorsFeaturizer.process",
             "components/sentence_featurizer.py: its _create_features must be what parsing calls",
             Calls("self._create_features("), phases=("train", "server")),
    Internal("rasa", "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:"
             "CountVectorsFeaturizer._get_featurized_attribute",
             "components/sentence_featurizer.py: its _create_features must be what training calls",
             Calls("self._create_features("), phases=("train",)),
    Internal("rasa", "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer:"
             "CountVectorsFeaturizer.__init__",
             "components/sentence_featurizer.py: reads self.vectorizers",
             Assigns("vectorizers"), phases=("train", "server")),
    # --- server/drain.py: Sanic's connections, read while the server stops ------------------------
    Internal("sanic", "sanic.server.protocols.http_protocol:HttpProtocol",
             "server/drain.py: which accepted connections still hold an unread request",
             Slots("_http", "recv_buffer", "transport", "connections", "conn_info")),
    Internal("sanic", "sanic.http:Http", "server/drain.py: a connection's request stage",
             Slots("stage")),
    Internal("sanic", "sanic.http:Stage.IDLE", "server/drain.py: a connection between requests",
             Present()),
    Internal("sanic", "sanic.request:Request.protocol", "server/drain.py: finds the connection set",
             Present()),
    Internal("sanic", "sanic.models.server_types:ConnInfo", "server/drain.py: marks connections",
             Slots("ctx")),
    Internal("sanic", "sanic.application.state:ApplicationState.port",
             "server/drain.py: the port to drain", Present()),
    # --- channels/socketio.py: Rasa's socket.io channel, its blueprint rewritten ------------------
    Internal("rasa", "rasa.core.channels.socketio:SocketBlueprint.register",
             "channels/socketio.py: overrides it (CORS left to Engine.IO)",
             Params("self", "app", "options"), phases=("channel",)),
    Internal("rasa", "rasa.core.channels.socketio:SocketBlueprint.__init__",
             "channels/socketio.py: reads self.ctx.socketio_path",
             Calls("self.ctx.socketio_path = socketio_path"), phases=("channel",)),
    Internal("rasa", "rasa.core.channels.socketio:SocketIOInput.__init__",
             "channels/socketio.py: its blueprint reads the settings Rasa's constructor stores",
             Assigns("user_message_evt", "bot_message_evt", "namespace", "session_persistence",
                     "socketio_path", "sio", "metadata_key", "jwt_key", "jwt_algorithm"),
             phases=("channel",)),
    Internal("rasa", "rasa.core.channels.channel:decode_bearer_token",
             "channels/socketio.py: checks a socket's JWT as Rasa does",
             Params("bearer_token", "jwt_key", "jwt_algorithm"), phases=("channel",)),
    Internal("sanic-cors", "sanic_cors.core:SANIC_CORS_EVALUATED",
             "channels/socketio.py: marks socket.io requests so Sanic-CORS adds no second header",
             Present(), phases=("channel",)),
    Internal("sanic-cors", "sanic_cors.extension",
             "channels/socketio.py: Sanic-CORS must skip a request so marked",
             Calls("getattr(request_context, SANIC_CORS_EVALUATED"), phases=("channel",)),
    Internal("python-engineio", "engineio.payload:Payload.decode",
             "channels/socketio.py: answers 400 to a polling body of more packets than Engine.IO "
             "decodes (counted by the \\x1e separator), before Engine.IO logs a traceback",
             Calls("split('\\x1e')", "self.max_decode_packets"), phases=("channel",)),
    Internal("python-engineio", "engineio.async_server:AsyncServer.handle_request",
             "channels/socketio.py: wraps the instance's handle_request before the routes take it",
             Params("self", "args", "kwargs"), phases=("channel",)),
    Internal("python-engineio", "engineio.async_drivers.sanic",
             "channels/socketio.py: reads the Sanic request Engine.IO's driver puts in the environ "
             "(for the client address; its REMOTE_ADDR is always 127.0.0.1)",
             Calls("'sanic.request': request"), phases=("channel",)),
    # --- server/hardening.py: around Rasa's web app ----------------------------------------------
    Internal("rasa", "rasa.utils.endpoints:EndpointConfig.__init__",
             "server/hardening.py: adds the action server's secret to self.headers, which every "
             "request to the action endpoint sends",
             Assigns("headers")),
    Internal("sanic-cors", "sanic_cors.core:SANIC_CORS_EVALUATED",
             "server/hardening.py: marks a request without an Origin so Sanic-CORS adds no header",
             Present()),
    Internal("sanic-cors", "sanic_cors.extension",
             "server/hardening.py: Sanic-CORS must skip a request so marked",
             Calls("getattr(request_context, SANIC_CORS_EVALUATED")),
    # --- server/tracker_store.py: Rasa's SQL tracker store, windowed -------------------------------
    Internal("rasa", "rasa.core.tracker_store:TrackerStore._stream_new_events",
             "server/tracker_store.py: publishes new events to the event broker",
             Params("self", "event_broker", "new_events", "sender_id")),
    Internal("rasa", "rasa.core.tracker_store:SQLTrackerStore.SQLEvent",
             "server/tracker_store.py: writes the rows Rasa's save would write",
             Columns("id", "sender_id", "type_name", "timestamp", "intent_name", "action_name",
                     "data")),
    Internal("rasa", "rasa.core.tracker_store:SQLTrackerStore.__init__",
             "server/tracker_store.py: replaces the engine and its sessionmaker (SQLite)",
             Assigns("engine", "sessionmaker")),
    Internal("rasa", "rasa.core.tracker_store:SQLTrackerStore.session_scope",
             "server/tracker_store.py: one transaction per save", Params("self")),
    # --- server/lock_store.py: Rasa's Redis lock store, atomic -------------------------------------
    Internal("rasa", "rasa.core.lock_store:RedisLockStore.__init__",
             "server/lock_store.py: reads self.red and self.key_prefix",
             Assigns("red", "key_prefix")),
    Internal("rasa", "rasa.core.lock_store:LockStore.issue_ticket",
             "server/lock_store.py: overrides it", Params("self", "conversation_id", "lock_lifetime")),
    Internal("rasa", "rasa.core.lock_store:LockStore.update_lock",
             "server/lock_store.py: overrides it", Params("self", "conversation_id")),
    Internal("rasa", "rasa.core.lock_store:LockStore.finish_serving",
             "server/lock_store.py: overrides it",
             Params("self", "conversation_id", "ticket_number")),
    Internal("rasa", "rasa.core.lock_store:LockStore.cleanup",
             "server/lock_store.py: overrides it",
             Params("self", "conversation_id", "ticket_number")),
    Internal("rasa", "rasa.core.lock_store:LockStore.lock",
             "server/lock_store.py: its overrides must be what Rasa's lock calls",
             Calls("self.issue_ticket(", "self.cleanup(")),
    Internal("rasa", "rasa.core.lock_store:LockStore._acquire_lock",
             "server/lock_store.py: its overrides must be what Rasa's lock calls",
             Calls("self.update_lock(")),
    # --- server/graph_runner.py: the model's graph, run without dask -------------------------------
    Internal("rasa", "rasa.engine.runner.dask:DaskGraphRunner.__init__",
             "server/graph_runner.py: reads the runner's schema and instantiated nodes",
             Assigns("_graph_schema", "_instantiated_nodes"), patch="runner"),
    Internal("rasa", "rasa.engine.graph:GraphSchema.minimal_graph_schema",
             "server/graph_runner.py: the nodes a target needs",
             Params("self", "targets"), patch="runner"),
    # --- server/action_session.py: the kept-alive session to the action server ---------------------
    Internal("aiohttp", "aiohttp.connector:BaseConnector._close",
             "server/action_session.py: closes the kept sessions at exit, when no loop runs",
             Params("self"), patch="session"),
    # --- server/operations.py: /ready reads the agent Rasa loaded -----------------------------------
    Internal("rasa", "rasa.core.run:load_agent_on_start",
             "server/operations.py: /ready reads the agent it keeps in app.ctx.agent",
             Calls("app.ctx.agent = ")),
    Internal("rasa", "rasa.core.agent:Agent.is_ready",
             "server/operations.py: /ready asks whether the model is loaded", Params("self")),
    Internal("rasa", "rasa.core.agent:Agent.__init__",
             "server/operations.py: /ready asks the action server of self.action_endpoint",
             Assigns("action_endpoint")),
    # --- actions/action_server.py: the action server's Sanic app, found by name ---------------------
    Internal("rasa-sdk", "rasa_sdk.endpoint:create_app",
             "actions/action_server.py: finds the app by the name create_app gives it, and is "
             "imported (with the actions) before the app serves",
             Calls('Sanic("rasa_sdk"', "register_package("), phases=("actions",)),
    # --- server/skops_types.py: skops' trusted type lists, served from a file ----------------------
    Internal("skops", "skops.io._trusted_types",
             "server/skops_types.py: stands in for this module with the same lists",
             ModuleAssigns("PRIMITIVE_TYPE_NAMES", "SKLEARN_ESTIMATOR_TYPE_NAMES",
                           "SCIPY_UFUNC_TYPE_NAMES", "NUMPY_UFUNC_TYPE_NAMES",
                           "NUMPY_DTYPE_TYPE_NAMES"),
             phases=("server", "train")),
    # --- channels/telegram.py: aiogram's Bot under Rasa's Telegram output ---------------------------
    Internal("aiogram", "aiogram.bot.base:BaseBot.__init__",
             "channels/telegram.py: closes self._session without opening a new one",
             Assigns("_session"), phases=("channel",)),
    Internal("aiogram", "aiogram.bot.base:BaseBot.request",
             "channels/telegram.py: overrides it (the real chat id in place of the pseudonym)",
             Params("self", "method", "data", "files", "kwargs"), phases=("channel",)),
    # --- channels/whatsapp.py: Twilio's signature check ---------------------------------------------
    Internal("twilio", "twilio.request_validator:RequestValidator.get_values",
             "channels/whatsapp.py: FormParams gives every value of a field through getall",
             Calls(".getall("), phases=("channel",)),
)


def _chosen(entry: Internal, patches: Optional[Sequence[str]]) -> bool:
    return entry.patch is None or patches is None or entry.patch in patches


def check(phase: str, patches: Optional[Sequence[str]] = None,
          entries: Optional[Iterable[Internal]] = None) -> List[str]:
    """What is wrong for `phase`: one line per entry that does not hold ([] when all do).
    `patches`: server/'s replacements being installed (None: all); `entries`: INTERNALS."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; one of {PHASES}")
    problems = []
    for entry in INTERNALS if entries is None else entries:
        if phase in entry.phases and _chosen(entry, patches):
            problem = entry.problem()
            if problem:
                problems.append(problem)
    return problems


def message(problems: Sequence[str], what: str) -> str:
    return (f"{what}: private parts of other libraries it relies on have changed:\n  - "
            + "\n  - ".join(problems)
            + "\nEach is registered in server/internals.py with who uses it; check that code "
            "against the installed library and update it (and the entry), or pin the library "
            "back (requirements.lock).")


def require(phase: str, what: str, patches: Optional[Sequence[str]] = None) -> None:
    """Raises InternalsChanged listing every problem of `phase`."""
    problems = check(phase, patches)
    if problems:
        raise InternalsChanged(message(problems, what))


def require_for(user_file: str, what: str) -> None:
    """Raises InternalsChanged listing the problems of the entries `user_file` registered: a
    channel checks its own when Rasa creates it (phase "channel"), server/drain.py its own when a
    server starts (also under plain `rasa run`, which skips server.install())."""
    entries = [entry for entry in INTERNALS if entry.user_file == user_file]
    problems = [problem for problem in (entry.problem() for entry in entries) if problem]
    if problems:
        raise InternalsChanged(message(problems, what))


def listing() -> List[str]:
    """Every registered dependency, then server/'s replacements of Rasa internals (declared by
    each replacement's `REPLACES` and checked by server.install())."""
    import server

    lines = [entry.describe() for entry in INTERNALS]
    for name in (*server.PATCHES, *server.ALWAYS):
        replaced = server.replaced_by(name)
        for target, params in replaced.items():
            expected = "exists" if params is None else f"takes ({', '.join(params)})"
            lines.append(f"rasa: {target} {expected} [server/: replaced by '{name}'] (server)")
    return lines
