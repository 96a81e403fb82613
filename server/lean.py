"""Keeps TensorFlow, Matplotlib, dask and unused channel SDKs out of the Rasa server.

Nothing in config.yml calls them; Rasa 3.6 imports them whatever the pipeline (TensorFlow alone:
+317 MB and ~4-5 s of CPU at start).
The import chains, found with `python -X importtime` and an import hook that prints the stack of
each first import (BENCHMARKS.md, "Lean server"):

1. `rasa.core.actions.action` -> `rasa.core.policies.policy` -> `...featurizers.tracker_featurizers`
   -> `...single_state_featurizer` -> `rasa.nlu.extractors.extractor` -> `import
   rasa.utils.train_utils` -> `from rasa.utils.tensorflow.callback import ...` -> TensorFlow.
   `extractor.py` never uses `train_utils`; `crf_entity_extractor.py` (imported by the recipe
   validator, 2.) only calls it while training.
2. Loading a model reads its metadata, whose *training* graph names Rasa's recipe validator
   (`rasa.graph_components.validators.default_recipe_validator`); `GraphSchema.from_dict` imports
   each node's class, and that module imports DIETClassifier, ResponseSelector and TEDPolicy,
   each of which imports TensorFlow. The training graph is never run by the server.
3. `rasa.server` -> `rasa.core.test` -> `rasa.nlu.test` -> `import rasa.utils.plotting` ->
   Matplotlib (only used to draw evaluation plots).
4. `rasa.engine.runner.dask` -> `import dask`: only `DaskGraphRunner.run` calls dask, and
   server/graph_runner.py replaces it.
5. Not TensorFlow, but as heavy at start: `rasa.core.channels` (imported by everything that names
   a channel class) imports all 15 built-in channels and their SDKs (webexteamssdk, google-auth,
   questionary/prompt_toolkit, slack_sdk...; ~0.6 s and ~28 MB), and `rasa.core.run` imports the
   console channel (`from rasa.core.channels import console`), used only by `rasa shell`.

What is done, the least that keeps each out:
- 1, 3, 4: those modules (`DEFERRED`) are *deferred*: `import x` binds a module object at
  once but runs the module's code only when one of its attributes is first read, exactly as it
  would have run at import (importlib's LazyLoader, made safe for a module imported from several
  places on Python 3.10, where each `import` of an already-imported module reads its `__spec__`).
  If anything does use one (`rasa train`, `rasa test`, `IOM_PERF_PATCHES` without `runner`), it
  is loaded then, on first use.
- 2: `ModelMetadata.from_dict` (replaced) loads the prediction graph as Rasa does and the training
  graph on first access of its `nodes` (`DeferredGraphSchema`): same metadata, read later.
- 5: the body of `rasa/core/channels/__init__.py` is replaced by one that gives the same names on
  first use (`CHANNELS`, module `__getattr__`): the base classes at once, each built-in channel
  class, `input_channel_classes` and `BUILTIN_CHANNELS` (a read-only mapping that imports a
  channel's module when that channel is looked up) when read. Rasa's file is checked by its
  SHA-256 at start: any change to it stops the server (server.check()). The console channel module
  is deferred like 1, 3, 4.

Also: Python's own distutils instead of setuptools' copy (`use_stdlib_distutils`, setuptools' own
switch); no cyclic garbage collection until the model is loaded (`pause_garbage_collection`,
`load_agent_on_start`); skops' trusted types are server/skops_types.py. Rasa's own switch for TensorFlow's threads
and GPUs (`setup_tf_environment`) only imports it when its environment variables are set; they
are not. tests/test_lean_server.py starts the server as
`make run` does and checks that none of these modules is loaded after answering.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Type

from server import patching

# Modules whose code runs only when first used (see the module docstring).
DEFERRED = ("rasa.utils.train_utils", "rasa.utils.plotting", "dask", "rasa.core.channels.console")
# The replaced internal, with the parameters the replacement expects.
LOAD_AGENT_ON_START = "rasa.core.run:load_agent_on_start"
REPLACES = {
    "rasa.engine.storage.storage:ModelMetadata.from_dict": ("cls", "serialized"),
    "rasa.engine.graph:GraphSchema.from_dict": ("cls", "serialized_graph_schema"),
    LOAD_AGENT_ON_START: ("model_path", "endpoints", "remote_storage", "app", "loop"),
}
FROM_DICT = "rasa.engine.storage.storage:ModelMetadata.from_dict"

# What the import system (and `inspect.getmodule`, which scans sys.modules) reads from a module
# without using it: answered without running the module. Setting attributes never runs it either.
_OWN = frozenset({"__spec__", "__name__", "__class__", "__dict__", "__loader__", "__package__",
                  "__file__", "__cached__"})


class DeferredModule(types.ModuleType):
    """A module whose code has not run yet: it runs on the first read of any other attribute."""

    def __getattribute__(self, attr: str) -> Any:
        if attr not in _OWN:
            _load(self)
        return types.ModuleType.__getattribute__(self, attr)


def _load(module: types.ModuleType) -> None:
    """Runs the module's code once. Other threads wait until it has run; the thread running it
    (a circular import inside the module) sees it as it is so far, as with a plain import."""
    spec = object.__getattribute__(module, "__spec__")
    state = spec.loader_state
    with state["lock"]:
        if object.__getattribute__(module, "__class__") is not DeferredModule or state["running"]:
            return
        state["running"] = True
        loader = state["loader"]
        # From here on the module is what a plain import would have made.
        spec.loader = loader
        object.__setattr__(module, "__loader__", loader)
        try:
            loader.exec_module(module)
        finally:
            object.__setattr__(module, "__class__", types.ModuleType)


class _DeferringLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return spec.loader_state["loader"].create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = DeferredModule


class DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the `DEFERRED` modules with the finders after it and defers running them."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, name: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        spec = _spec_from_others(self, name, path, target) if name in self.names else None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader_state = {"loader": spec.loader, "lock": threading.RLock(), "running": False}
        spec.loader = _DeferringLoader()
        return spec


def _spec_from_others(me: Any, name: str, path: Any, target: Any) -> Optional[importlib.machinery.ModuleSpec]:
    """The spec the finders after `me` on sys.meta_path give for `name`."""
    for finder in sys.meta_path:
        if finder is not me and hasattr(finder, "find_spec"):
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                return spec
    return None


_finder: Optional[DeferringFinder] = None


# --- the channels package --------------------------------------------------------------------

CHANNELS_PACKAGE = "rasa.core.channels"
# SHA-256 of Rasa 3.6.21's rasa/core/channels/__init__.py, whose names CHANNELS serves.
CHANNELS_INIT_SHA256 = "33637c7f3972a4b5528f5ad29268ec17c483b5e468e685cc312a8545a8d23746"
# (name, module, class) of each built-in channel, in the order of Rasa's input_channel_classes.
CHANNELS = (
    ("cmdline", "console", "CmdlineInput"), ("facebook", "facebook", "FacebookInput"),
    ("slack", "slack", "SlackInput"), ("telegram", "telegram", "TelegramInput"),
    ("mattermost", "mattermost", "MattermostInput"), ("twilio", "twilio", "TwilioInput"),
    ("twilio_voice", "twilio_voice", "TwilioVoiceInput"), ("rasa", "rasa_chat", "RasaChatInput"),
    ("botframework", "botframework", "BotFrameworkInput"),
    ("rocketchat", "rocketchat", "RocketChatInput"), ("callback", "callback", "CallbackInput"),
    ("rest", "rest", "RestInput"), ("socketio", "socketio", "SocketIOInput"),
    ("webexteams", "webexteams", "WebexTeamsInput"), ("hangouts", "hangouts", "HangoutsInput"),
)
_CHANNEL_MODULES = {cls: module for _, module, cls in CHANNELS}


def _channel_class(cls: str) -> type:
    module = importlib.import_module(f"{CHANNELS_PACKAGE}.{_CHANNEL_MODULES[cls]}")
    return getattr(module, cls)


class BuiltinChannels(Mapping):
    """Rasa's `BUILTIN_CHANNELS` ({channel name: input channel class}), importing a channel's
    module only when that channel is looked up (`name in` imports nothing)."""

    def __init__(self) -> None:
        self._classes = {name: cls for name, _, cls in CHANNELS}

    def __getitem__(self, name: str) -> type:
        return _channel_class(self._classes[name])

    def __iter__(self):
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __repr__(self) -> str:
        return f"BuiltinChannels({list(self._classes)})"


def _channels_getattr(name: str) -> Any:
    package = sys.modules[CHANNELS_PACKAGE]
    if name in _CHANNEL_MODULES:
        value: Any = _channel_class(name)
    elif name == "input_channel_classes":
        value = [_channel_class(cls) for _, _, cls in CHANNELS]
    elif name == "BUILTIN_CHANNELS":
        value = BuiltinChannels()
    else:
        raise AttributeError(f"module {CHANNELS_PACKAGE!r} has no attribute {name!r}")
    setattr(package, name, value)
    return value


class _ChannelsPackageLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        module.__spec__.loader = self.loader
        from rasa.core.channels.channel import (
            CollectingOutputChannel, InputChannel, OutputChannel, UserMessage,
        )

        module.__dict__.update(
            Text=Text, Dict=Dict, List=List, Type=Type, InputChannel=InputChannel,
            OutputChannel=OutputChannel, UserMessage=UserMessage,
            CollectingOutputChannel=CollectingOutputChannel, __getattr__=_channels_getattr)


class ChannelsFinder(importlib.abc.MetaPathFinder):
    """Finds `rasa.core.channels` as usual and runs the body above instead of its __init__.py."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        spec = _spec_from_others(self, name, path, target) if name == CHANNELS_PACKAGE else None
        if spec is not None:
            spec.loader = _ChannelsPackageLoader(spec.loader)
        return spec


_channels_finder: Optional[ChannelsFinder] = None


def channels_init_changed() -> list:
    """[] if Rasa's rasa/core/channels/__init__.py is the one CHANNELS was written from."""
    spec = importlib.util.find_spec(CHANNELS_PACKAGE) if CHANNELS_PACKAGE not in sys.modules \
        else sys.modules[CHANNELS_PACKAGE].__spec__
    try:
        digest = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()
    except (AttributeError, OSError, TypeError) as error:
        return [f"{CHANNELS_PACKAGE}: cannot read its __init__.py ({error})"]
    if digest != CHANNELS_INIT_SHA256:
        return [f"{spec.origin}: changed (SHA-256 {digest[:12]}...); server/lean.py serves its "
                "names lazily (CHANNELS) and must be checked against it"]
    return []


def missing_modules() -> list:
    """The deferred modules that do not exist any more (checked without running them)."""
    problems = []
    for name in DEFERRED:
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError) as error:
            found, name = None, f"{name} ({error})"
        if found is None:
            problems.append(f"{name}: module not found (server/lean.py defers it)")
    return problems


def use_stdlib_distutils() -> None:
    """setuptools' own switch, SETUPTOOLS_USE_DISTUTILS=stdlib, for this process.

    Sanic (`from distutils.util import strtobool`) and sanic-cors (`LooseVersion`) import
    distutils. setuptools installs an import hook (distutils-precedence.pth, at interpreter start)
    that answers `import distutils` by importing all of setuptools and pkg_resources to serve its
    own copy: `import sanic` took 1.5 s instead of 0.46 s (load average 7; ~0.3 s on a quiet
    machine). Python 3.10's own distutils has the same `strtobool` and `LooseVersion`. The
    variable also keeps setuptools, if something imports it later, from swapping distutils."""
    os.environ["SETUPTOOLS_USE_DISTUTILS"] = "stdlib"
    shim = sys.modules.get("_distutils_hack")
    if shim is not None and "distutils" not in sys.modules:
        shim.remove_shim()


def install_import_hook() -> None:
    """Defers `DEFERRED`; must come before anything imports them (server/rasa_cli.py: first)."""
    global _finder
    use_stdlib_distutils()
    if _finder is None:
        already = [name for name in DEFERRED if name in sys.modules]
        if already:
            raise patching.RasaInternalsChanged(
                f"server.lean: {', '.join(already)} imported before server.install(); "
                "server.install() must run before Rasa is imported")
        _finder = DeferringFinder(DEFERRED)
        sys.meta_path.insert(0, _finder)
    global _channels_finder
    if _channels_finder is None and CHANNELS_PACKAGE not in sys.modules:
        _channels_finder = ChannelsFinder()
        sys.meta_path.insert(0, _channels_finder)


def uninstall_import_hook() -> None:
    """Stops deferring further imports (modules already deferred load on first use as usual)."""
    global _finder, _channels_finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None
    if _channels_finder is not None:
        sys.meta_path.remove(_channels_finder)
        _channels_finder = None


def is_deferred(module: types.ModuleType) -> bool:
    return object.__getattribute__(module, "__class__") is DeferredModule


def loaded(name: str) -> bool:
    """True if module `name` has run (a deferred module that never ran does not count)."""
    module = sys.modules.get(name)
    return module is not None and not is_deferred(module)


# --- the training graph of a loaded model ---------------------------------------------------------

def _graph_schema_class() -> type:
    from rasa.engine.graph import GraphSchema

    return GraphSchema


class _DeferredGraphSchemaMixin:
    """A GraphSchema read from a model's metadata whose nodes (and their classes) are resolved by
    Rasa's own `GraphSchema.from_dict` on first access of `nodes`."""

    def __init__(self, serialized: Dict[Text, Any]) -> None:
        self.__dict__["_serialized"] = serialized

    @property
    def nodes(self) -> Dict[Text, Any]:
        resolved = self.__dict__.get("_nodes")
        if resolved is None:
            graph_schema = _graph_schema_class()
            resolved = graph_schema.from_dict(copy.deepcopy(self.__dict__["_serialized"])).nodes
            self.__dict__["_nodes"] = resolved
        return resolved

    @nodes.setter
    def nodes(self, value: Dict[Text, Any]) -> None:
        self.__dict__["_nodes"] = value

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, _graph_schema_class()):
            return self.nodes == other.nodes
        return NotImplemented

    def __repr__(self) -> str:
        return f"DeferredGraphSchema({len(self.__dict__['_serialized'].get('nodes', {}))} nodes)"


_deferred_schema_class: Optional[type] = None


def deferred_graph_schema(serialized: Dict[Text, Any]) -> Any:
    """A `GraphSchema` (subclass) whose nodes are resolved on first use."""
    global _deferred_schema_class
    if _deferred_schema_class is None:
        _deferred_schema_class = type(
            "DeferredGraphSchema", (_DeferredGraphSchemaMixin, _graph_schema_class()),
            {"__hash__": None})
    return _deferred_schema_class(serialized)


def from_dict(cls: type, serialized: Dict[Text, Any]) -> Any:
    """Rasa's `ModelMetadata.from_dict`, with the training graph resolved on first use."""
    rasa_from_dict = patching.original(FROM_DICT)
    metadata = rasa_from_dict.__func__(cls, {**serialized, "train_schema": {"nodes": {}}})
    metadata.train_schema = deferred_graph_schema(serialized["train_schema"])
    return metadata


# --- no garbage collection while the server starts -----------------------------------------------

def pause_garbage_collection() -> None:
    """Python's cyclic garbage collector off until the model is loaded (`install()` turns it back
    on). Starting the server creates ~2 million objects that all live on (modules, the model);
    each full collection on the way walks all of them again: about a third of the start's CPU
    (BENCHMARKS.md, "Lean server"). Reference counting still frees everything else meanwhile."""
    gc.disable()


async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
    """Rasa's `load_agent_on_start` (the server's start-up listener that loads the model), then the
    collector back on, with what start-up built frozen (`gc.freeze()`: moved out of the
    collector's way for good, as after a fork), so the first full collection does not walk it
    during a user's message."""
    try:
        return await patching.original(LOAD_AGENT_ON_START)(*args, **kwargs)
    finally:
        gc.freeze()
        gc.enable()


def install() -> None:
    """The import hook (if not yet there), the deferred training graph and the collector back on
    once the model is loaded."""
    install_import_hook()
    patching.replace(FROM_DICT, classmethod(from_dict))
    patching.replace(LOAD_AGENT_ON_START, load_agent_on_start)
