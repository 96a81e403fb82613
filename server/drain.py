"""A Rasa server that is told to stop (SIGTERM, Ctrl-C) serves every request that reached it and
refuses new connections at once, so that a load balancer in front sends them elsewhere.

Why (docs/operating.md, "Scaling out"): Sanic 21.12 (Rasa 3.6's web server) stops like this: the
signal stops the event loop, `before_server_stop` listeners run while the server still accepts
connections, and only then is the listening socket closed. Under load a Rasa server's event loop
is busy with NLU and uvloop accepts one connection per loop iteration, so some connections are
always waiting in the kernel's accept queue: the kernel completed their handshake and nginx has
already sent the request on them. Closing the listening socket resets every one of them
(`recv() failed (104: Connection reset by peer) while reading response header from upstream`);
for nginx that POST was already sent, so it does not retry it and the user gets a 502. Sanic
also closes, as "idle", a connection it accepted but whose request it has not started to read.

What `register(blueprint)` adds (as a `before_server_stop` listener, so before Sanic closes the
socket):
1. a socket filter on the listening socket that drops new connection requests (TCP SYN).
   Established connections and handshakes already under way are not affected. A client whose
   SYN was dropped sends it again after about a second; by then the socket is closed and the
   kernel refuses the connection, which nginx (`proxy_next_upstream error`) retries on another
   server, as the request was never sent.
2. a wait until nothing is left for this server to take: no half-open handshake and an empty
   accept queue (from /proc/net/tcp), and every connection Sanic accepted has had its request
   read. Sanic then closes the socket without resetting anyone and waits, as before, up to
   GRACEFUL_SHUTDOWN_TIMEOUT (15 s) for the requests it is answering.

The wait is bounded by IOM_DRAIN_SECONDS (default 5). Linux only; elsewhere Sanic's own stop.
It reads a few attributes of Sanic's connection objects (registered in server/internals.py):
the server refuses to start if a Sanic upgrade renamed one, rather than silently draining nothing
(checked by server.install(), and again here when a server starts, for plain `rasa run`).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import socket
import struct
import time
from typing import Any, Dict, Iterable, List, Optional, Set

from server import internals

logger = logging.getLogger(__name__)

DRAIN_SECONDS_ENV = "IOM_DRAIN_SECONDS"
DEFAULT_DRAIN_SECONDS = 5.0
POLL_SECONDS = 0.01

# Classic BPF program for SO_ATTACH_FILTER: the filter of a TCP socket sees the TCP header at
# offset 0; byte 13 holds the flags. A packet with SYN set is dropped (return 0), every other one
# kept whole (return 0xFFFFFFFF).
SO_ATTACH_FILTER = 26
_DROP_SYN = (
    (0x30, 0, 0, 13),  # ldb [13]
    (0x45, 0, 1, 0x02),  # jset #SYN, next, skip one
    (0x06, 0, 0, 0),  # ret #0: drop
    (0x06, 0, 0, 0xFFFFFFFF),  # ret #-1: keep
)

# /proc/net/tcp states.
_ESTABLISHED, _SYN_RECV, _LISTEN = "01", "03", "0A"


def drain_seconds() -> float:
    raw = os.environ.get(DRAIN_SECONDS_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_DRAIN_SECONDS
    except ValueError:
        logger.error("%s=%r is not a number; using %s", DRAIN_SECONDS_ENV, raw, DEFAULT_DRAIN_SECONDS)
        return DEFAULT_DRAIN_SECONDS
    return max(value, 0.0)


# --- what the kernel knows about our port --------------------------------------------------


class PortState:
    def __init__(self) -> None:
        self.listening_inodes: Set[int] = set()
        self.accept_queue = 0  # connections the kernel accepted that the server has not taken
        self.half_open = 0  # handshakes under way (SYN received, final ACK not yet)
        self.unread: Dict[int, int] = {}  # inode of an established connection -> bytes unread


def port_state(port: int, tables: Iterable[str] = ("/proc/net/tcp", "/proc/net/tcp6")) -> PortState:
    state = PortState()
    for table in tables:
        try:
            with open(table) as lines:
                next(lines, None)
                for line in lines:
                    fields = line.split()
                    if len(fields) < 10 or int(fields[1].rsplit(":", 1)[1], 16) != port:
                        continue
                    status, queues, inode = fields[3], fields[4], int(fields[9])
                    rx_queue = int(queues.split(":")[1], 16)
                    if status == _LISTEN:
                        state.listening_inodes.add(inode)
                        state.accept_queue += rx_queue  # for a listener: its accept queue
                    elif status == _SYN_RECV:
                        state.half_open += 1
                    elif status == _ESTABLISHED and inode:
                        state.unread[inode] = rx_queue
        except FileNotFoundError:
            continue
    return state


def own_socket_inodes() -> Dict[int, int]:
    """inode -> file descriptor of this process's sockets."""
    inodes: Dict[int, int] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes[int(target[8:-1])] = int(name)
    return inodes


def refuse_new_connections(listener_fd: int) -> None:
    """Attaches the SYN-dropping filter to the listening socket behind `listener_fd`."""
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in _DROP_SYN)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HL", len(_DROP_SYN), ctypes.addressof(buffer))
    with socket.socket(fileno=os.dup(listener_fd)) as listener:
        listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


# --- what Sanic holds ---------------------------------------------------------------------


class _Connections:
    """Sanic's set of open connections of this server, and which of them already had a request
    (marked in the connection's own context). Learnt from requests (request middleware): the set
    is shared by every connection of the server."""

    def __init__(self) -> None:
        self.open: Optional[Set[Any]] = None

    async def middleware(self, request: Any) -> None:
        request.conn_info.ctx.iom_had_request = True
        if self.open is None:
            self.open = getattr(request.protocol, "connections", None)

    @staticmethod
    def had_request(connection: Any) -> bool:
        info = connection.conn_info
        return info is not None and getattr(info.ctx, "iom_had_request", False)

    def not_yet_read(self) -> List[Any]:
        """Connections Sanic would close as idle although their request is (or may be) there:
        accepted, not closing, no request under way, and never had one."""
        from sanic.http import Stage

        waiting = []
        for connection in list(self.open or ()):
            transport = connection.transport
            if transport is None or transport.is_closing():
                continue
            # Set by the connection's task one loop iteration after it was accepted (and added
            # to the set): until then the slot is empty, and its request not yet read.
            http = getattr(connection, "_http", None)
            if http is None or (
                http.stage is Stage.IDLE
                and (connection.recv_buffer or not self.had_request(connection))
            ):
                waiting.append(connection)
        return waiting


async def drain(port: int, connections: _Connections, seconds: float) -> bool:
    """Refuses new connections on `port`, then waits until everything that reached this server
    is in Sanic's hands. True if it got there within `seconds`."""
    started = time.monotonic()
    state = port_state(port)
    sockets = own_socket_inodes()
    listeners = [sockets[inode] for inode in state.listening_inodes if inode in sockets]
    if not listeners:
        logger.warning("Stopping: no listening socket of port %s found; not draining.", port)
        return False
    for fd in listeners:
        refuse_new_connections(fd)
    logger.info(
        "Stopping: port %s refuses new connections; serving the %d waiting in its queue.",
        port, state.accept_queue,
    )
    clean_polls = 0
    while True:
        state = port_state(port)
        sockets = own_socket_inodes()
        unread = sum(1 for inode, size in state.unread.items() if inode in sockets and size)
        # A connection taken from the queue reaches Sanic's set one loop iteration later:
        # the state must be clean on two polls in a row.
        if state.accept_queue == 0 and state.half_open == 0 and unread == 0:
            clean_polls = clean_polls + 1 if not connections.not_yet_read() else 0
        else:
            clean_polls = 0
        if clean_polls >= 2:
            logger.info("Stopping: drained in %.2f s.", time.monotonic() - started)
            return True
        if time.monotonic() - started > seconds:
            logger.warning(
                "Stopping: not drained after %.1f s (queue %d, handshakes %d, unread %d); "
                "closing anyway.", seconds, state.accept_queue, state.half_open, unread,
            )
            return False
        await asyncio.sleep(POLL_SECONDS)


def register(blueprint: Any) -> None:
    """Adds the drain to the Sanic app `blueprint` is registered on (once per app)."""

    @blueprint.listener("before_server_start")
    async def start_tracking(app: Any, _: Any) -> None:
        if getattr(app.ctx, "iom_drain", None) is not None:
            return
        if not os.path.isdir("/proc/self/fd"):
            app.ctx.iom_drain = False
            return
        internals.require_for("server/drain.py", "server/drain.py cannot drain a stopping server")
        app.ctx.iom_drain = _Connections()
        app.register_middleware(app.ctx.iom_drain.middleware, "request")

    @blueprint.listener("before_server_stop")
    async def drain_before_stop(app: Any, _: Any) -> None:
        connections = getattr(app.ctx, "iom_drain", None)
        if not connections or getattr(app.ctx, "iom_drained", False):
            return
        app.ctx.iom_drained = True
        port = getattr(app.state, "port", None)
        if not port:
            return
        try:
            await drain(int(port), connections, drain_seconds())
        except OSError:
            logger.exception("Stopping: could not drain port %s; Sanic's own stop follows.", port)
