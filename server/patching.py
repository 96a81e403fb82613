"""How server/ replaces an internal of Rasa: by name, checked first, and undoable.

A replacement names its target as `"module:Attribute.path"` (e.g.
`"rasa.engine.runner.dask:DaskGraphRunner.run"`). `missing(target, params)` says what is wrong
with a target before anything is replaced: the module cannot be imported, the attribute is not
there (renamed or moved by a Rasa upgrade: replacing it would add an attribute nobody calls, and
the replacement would silently do nothing), or the function no longer takes the parameters the
replacement was written for. `replace(target, new)` keeps the original, `restore_all()` puts every
original back (tests undo what they installed), `original(target)` gives Rasa's own code to
compare with.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Dict, Optional, Sequence, Tuple


class RasaInternalsChanged(RuntimeError):
    """A replaced internal of Rasa is missing or changed: refuse to start rather than run without it."""


# target -> (owner, attribute name, owner's own value before the first replacement or _INHERITED)
_ORIGINALS: Dict[str, Tuple[Any, str, Any]] = {}
_INHERITED = object()


def _owner(target: str) -> Tuple[Any, str]:
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    return owner, name


def missing(target: str, params: Optional[Sequence[str]] = None) -> Optional[str]:
    """None if `target` exists (with these parameter names, when given), else what is wrong."""
    try:
        owner, name = _owner(target)
    except ImportError as error:
        return f"{target}: its module cannot be imported ({error})"
    except AttributeError:
        return f"{target}: not found"
    if target in _ORIGINALS:
        value = _ORIGINALS[target][2]
        if value is _INHERITED:
            value = getattr(owner, name, None)
    elif not hasattr(owner, name):
        return f"{target}: not found"
    else:
        value = inspect.getattr_static(owner, name)
    if params is not None:
        function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        try:
            found = tuple(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            return f"{target}: not a function any more"
        if found != tuple(params):
            return f"{target}: takes ({', '.join(found)}), the replacement expects ({', '.join(params)})"
    return None


def replace(target: str, new: Any) -> None:
    """Sets `target` to `new`, keeping the original for `restore_all()` and `original()`."""
    owner, name = _owner(target)
    if target not in _ORIGINALS:
        own = vars(owner).get(name, _INHERITED) if hasattr(owner, "__dict__") else _INHERITED
        _ORIGINALS[target] = (owner, name, own)
    setattr(owner, name, new)


def original(target: str) -> Any:
    """Rasa's own value of `target` (as `getattr` gives it), replaced or not."""
    if target in _ORIGINALS:
        owner, name, own = _ORIGINALS[target]
        if own is not _INHERITED:
            return own.__get__(None, owner) if hasattr(own, "__get__") and isinstance(owner, type) else own
    owner, name = _owner(target)
    return getattr(owner, name)


def replaced() -> Tuple[str, ...]:
    return tuple(_ORIGINALS)


def restore_all() -> None:
    """Puts back every original replaced through `replace()`."""
    for target, (owner, name, own) in reversed(list(_ORIGINALS.items())):
        if own is _INHERITED:
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, own)
    _ORIGINALS.clear()
