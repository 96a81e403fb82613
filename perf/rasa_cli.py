"""Rasa's command line, started faster: `python -m perf.rasa_cli run ...` = `rasa run ...`.

1. skops first. Rasa 3.6.21 saves and loads the intent classifier with skops. Importing
   `skops.io` builds its lists of trusted types by looking up ~400 NumPy/SciPy ufuncs in every
   loaded module (`whichmodule`). Inside `rasa run` that import comes after TensorFlow has loaded
   ~5,400 modules, some of them lazy loaders that import more on each look-up: 8.4 s and +21 MB
   (BENCHMARKS.md). Imported before Rasa, with ~1,400 modules loaded, it takes 2.1 s and yields
   the same trusted types (checked: identical lists). The action server (`run actions`) never
   loads a model, so it skips this.
2. The server commands (`run`, `shell`) get perf's replacements of Rasa internals
   (perf/__init__.py) whatever the tracker store, e.g. deploy/endpoints.yml's PostgreSQL store.

Everything else is Rasa's own `main()` with the same arguments; plain `rasa ...` still works,
only slower to start.
"""

import sys

ACTION_SERVER = sys.argv[1:3] == ["run", "actions"]
if not ACTION_SERVER:
    import skops.io  # noqa: F401  (before Rasa: see the docstring)

from rasa.__main__ import main  # noqa: E402

if __name__ == "__main__":
    if sys.argv[1:2] in (["run"], ["shell"]) and not ACTION_SERVER:
        import perf

        perf.install()
    main()
