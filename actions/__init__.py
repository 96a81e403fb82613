"""The action server's package: `rasa run actions` imports it (and each module in it) at start.

First, the private parts of other libraries the action server relies on are checked (server/
internals.py, phase "actions": how rasa-sdk names its app, for actions/action_server.py's
metrics): after an upgrade that changed one, the action server stops at start with the list of
what changed instead of running without it (its metrics silently off).
"""

from server import internals

internals.require("actions", "The action server cannot start")
