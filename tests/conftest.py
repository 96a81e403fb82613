"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def rasa_restored():
    """Puts Rasa's own code back after a test that installs server/'s replacements of its internals
    (server.restore()), so no other test runs on them by accident."""
    yield
    import server

    server.restore()
