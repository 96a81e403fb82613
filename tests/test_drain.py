"""server/drain.py's view of Sanic's connections while a Rasa server stops (the end-to-end
behaviour is in tests/test_scaled.py)."""

from __future__ import annotations

from sanic.server.protocols.http_protocol import HttpProtocol

from server.drain import _Connections


class OpenTransport:
    def is_closing(self) -> bool:
        return False


def test_a_connection_accepted_a_moment_ago_counts_as_not_yet_read():
    """Sanic adds a connection to its set when it accepts it, and gives it its HTTP state one
    loop iteration later. A stop that polls in between (seen in a rolling restart: the server
    crashed with "'HttpProtocol' object has no attribute '_http'" and exited 1) must count it as
    a connection whose request is still to be read, and go on draining."""
    accepted = HttpProtocol.__new__(HttpProtocol)  # Sanic's own class, its slots still empty
    accepted.transport = OpenTransport()
    connections = _Connections()
    connections.open = {accepted}
    assert connections.not_yet_read() == [accepted]
