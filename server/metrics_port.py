"""Serves this process's Prometheus metrics on a port of its own (docs/operating.md, "Monitoring").

Each server process exposes its own metrics, from prometheus-client's default registry, on its
own port: the Rasa server on IOM_METRICS_PORT (default 9102), the action server on the next port
(9103), bound to IOM_METRICS_HOST (default 127.0.0.1: nothing outside the machine reads them
unless an operator says so). The scaled set-up gives every process its own port
(scripts/run_scaled.sh); Prometheus adds them up.

Why one port per process rather than prometheus-client's multiprocess mode: that mode is for one
server that forks workers (gunicorn), which share a directory of memory-mapped files and one
exporter; our servers are independent processes (one Sanic worker each, the default of Rasa and
rasa-sdk), possibly on different hosts or pods, so each one exports what it counted and
Prometheus sums over the targets (`sum(rate(iom_messages_total[5m]))`). Nothing is shared, so
nothing needs cleaning after a crash, and a target that is down shows as `up == 0`.

A port already taken does not stop the assistant: answering people matters more than counting
them. The server logs an ERROR saying that its metrics are not exposed, and why, and goes on;
`serve` returns False. IOM_METRICS_PORT=off turns the metrics port off on purpose.
"""

from __future__ import annotations

import logging
import os
from typing import Optional

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    REGISTRY,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)

logger = logging.getLogger(__name__)

# No `*_created` series (the time each labelled series was first used): Prometheus does not need
# them, and they would double the size of every scrape.
disable_created_metrics()
# Every name starts with iom_ (the contract's "Operations"): the process's memory, CPU and open
# files as iom_process_*, instead of prometheus-client's default process_*, python_gc_* and
# python_info.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    try:
        REGISTRY.unregister(_collector)
    except KeyError:
        pass  # already done
ProcessCollector(namespace="iom")

DEFAULT_PORT = 9102
DEFAULT_HOST = "127.0.0.1"


def port(offset: int = 0) -> Optional[int]:
    """IOM_METRICS_PORT (+ offset: 1 for the action server); None when set to `off`."""
    raw = os.environ.get("IOM_METRICS_PORT", "").strip()
    if raw.lower() == "off":
        return None
    if not raw:
        return DEFAULT_PORT + offset
    try:
        value = int(raw)
        if not 0 < value + offset < 65536:
            raise ValueError(raw)
    except ValueError:
        logger.error("IOM_METRICS_PORT=%r is not a port number; using %d", raw, DEFAULT_PORT)
        return DEFAULT_PORT + offset
    return value + offset


def host() -> str:
    return os.environ.get("IOM_METRICS_HOST", "").strip() or DEFAULT_HOST


def serve(what: str, offset: int = 0) -> bool:
    """Starts the metrics endpoint of this process (`what`: "Rasa server", "action server") in a
    thread of its own, so a scrape is answered even while the event loop is busy. True if it
    listens; False (and an ERROR in the log) if the port is taken or metrics are off."""
    number = port(offset)
    if number is None:
        logger.info("Metrics of the %s: off (IOM_METRICS_PORT=off)", what)
        return False
    address = host()
    try:
        start_http_server(number, addr=address)
    except OSError as error:
        logger.error(
            "Metrics of the %s NOT exposed: cannot listen on %s:%d (%s). The %s goes on "
            "without them; set IOM_METRICS_PORT to a free port "
            "(docs/operating.md, \"Monitoring\").",
            what, address, number, error.strerror or error, what)
        return False
    logger.info("Metrics of the %s: http://%s:%d/metrics", what, address, number)
    return True
