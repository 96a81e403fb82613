"""skops' lists of trusted types, computed once per installation instead of at every start.

Rasa 3.6.21 loads the intent classifier with skops. Importing `skops.io` runs
`skops/io/_trusted_types.py`, which builds the lists of type names skops trusts by default:
every scikit-learn estimator (`all_estimators()`, which imports all ~630 modules of scikit-learn:
0.6 s and +40 MB of memory) and the NumPy and SciPy ufuncs (each looked up by name in every loaded
module: 0.6 s, far more once Rasa has loaded its ~3,000 modules). Rasa then loads the model only
if every type in the file is in those lists.

The lists depend only on the installed skops, scikit-learn, SciPy and NumPy. `python -m
server.skops_types` (run by `make install` and the Docker build) imports skops' own module in a fresh
interpreter and writes its lists, with those versions, to `<venv>/share/iom/skops-trusted-types.json`.
`install()` (server.install(), before Rasa is imported) then makes `skops.io._trusted_types` a module
holding the same lists, read from that file. A file written for other versions (or missing,
unreadable) is not used: then skops' own module runs, imported right away, before Rasa, when few
modules are loaded (2 s instead of 8 s). tests/test_rasa_replacements.py compares the file's lists with
a fresh import of skops' module.

The file decides what skops trusts, like the installed packages themselves: it lives in the venv,
writable by whoever can change the venv's code.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import json
import logging
import os
import sys
import types
from pathlib import Path
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

MODULE = "skops.io._trusted_types"
# The lists skops' other modules import from it (skops 0.9: _general.py, _numpy.py).
NAMES = ("PRIMITIVE_TYPE_NAMES", "SKLEARN_ESTIMATOR_TYPE_NAMES", "SCIPY_UFUNC_TYPE_NAMES",
         "NUMPY_UFUNC_TYPE_NAMES", "NUMPY_DTYPE_TYPE_NAMES")
DISTRIBUTIONS = ("skops", "scikit-learn", "scipy", "numpy")
FORMAT = 1


def cache_path() -> Path:
    return Path(os.environ.get("IOM_SKOPS_TYPES_FILE")
                or Path(sys.prefix) / "share" / "iom" / "skops-trusted-types.json")


def key() -> Dict[str, Any]:
    """What the lists depend on."""
    return {
        "format": FORMAT,
        "python": "%d.%d" % sys.version_info[:2],
        **{name: importlib.metadata.version(name) for name in DISTRIBUTIONS},
    }


def compute() -> Dict[str, list]:
    """skops' own lists, from its module (call in a fresh interpreter: see the docstring)."""
    module = importlib.import_module(MODULE)
    return {name: list(getattr(module, name)) for name in NAMES}


def read() -> Optional[Dict[str, list]]:
    """The cached lists if the file was written for the installed versions, else None."""
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key():
        return None
    values = data.get("values")
    if not isinstance(values, dict) or set(values) != set(NAMES):
        return None
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in values.values()):
        return None
    return values


def write() -> Path:
    """Computes the lists in this (fresh) interpreter and writes the file."""
    # skops finds a ufunc's module by scanning the loaded modules in order: start from none of these.
    if any(name in sys.modules for name in ("skops.io", "sklearn", "scipy", "rasa")):
        raise RuntimeError("compute the lists in a fresh interpreter: python -m server.skops_types")
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"key": key(), "values": compute()}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=1) + "\n")
    temporary.replace(path)
    return path


class _CachedListsLoader(importlib.abc.Loader):
    def __init__(self, values: Dict[str, list]) -> None:
        self.values = values

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__.update({name: list(value) for name, value in self.values.items()})
        module.__doc__ = f"skops' trusted type names, read from {cache_path()} (server/skops_types.py)"


class CachedListsFinder(importlib.abc.MetaPathFinder):
    def __init__(self, values: Dict[str, list]) -> None:
        self.loader = _CachedListsLoader(values)

    def find_spec(self, name: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if name != MODULE:
            return None
        return importlib.machinery.ModuleSpec(name, self.loader, origin=str(cache_path()))


_finder: Optional[CachedListsFinder] = None


def install() -> bool:
    """Serves skops' lists from the file; without a valid file imports skops now. True if cached."""
    global _finder
    if _finder is not None:
        return True
    values = read() if MODULE not in sys.modules else None
    if values is None:
        if MODULE not in sys.modules:
            logger.info("No valid %s (run `python -m server.skops_types`): skops computes its "
                        "trusted types at start", cache_path())
        import skops.io  # noqa: F401  (now, while few modules are loaded: see the docstring)

        return False
    _finder = CachedListsFinder(values)
    sys.meta_path.insert(0, _finder)
    return True


def uninstall() -> None:
    global _finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None


if __name__ == "__main__":
    print(f"skops trusted types written to {write()}")
