"""Fills in deploy/nginx.conf for N Rasa servers and M action servers on this host.

One renderer for `make run-scaled` (scripts/run_scaled.sh) and the tests (tests/cluster.py), so
that what is tested is what runs.

Why each Rasa server is listed twice in the `rasa` upstream (docs/operating.md, "Scaling out"):
nginx marks a server it could not connect to as down for `fail_timeout` (5 s) and sends it nothing
meanwhile, even once it is back. In a rolling restart, the server restarted first can still be
marked down when the next one is stopped; with every primary marked down nginx answers 502 ("no
live upstreams") without trying anyone. The second listing, as a `backup` that is never marked
down (`max_fails=0`), is tried only in that case: a request goes to whichever server actually
accepts the connection. A request that reached a server is still never sent again (a POST is
retried only when its connection failed).

    python -m deploy.nginx RUN_DIR LISTEN_PORT ACTIONS_LISTEN_PORT "RASA_PORTS" "ACTION_PORTS"
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from string import Template
from typing import Iterable

TEMPLATE = Path(__file__).with_name("nginx.conf")
PASSIVE_CHECK = "max_fails=1 fail_timeout=5s"


def upstream_lines(ports: Iterable[int], parameters: str = PASSIVE_CHECK) -> str:
    return "\n".join(f"        server 127.0.0.1:{port} {parameters};" for port in ports)


def render(run_dir: Path | str, listen_port: int, rasa_ports: Iterable[int],
           actions_listen_port: int, action_ports: Iterable[int], limit_exempt: Iterable[str] = ()) -> str:
    rasa_ports = list(rasa_ports)
    return Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        RUN_DIR=str(run_dir), LISTEN_PORT=listen_port, ACTIONS_LISTEN_PORT=actions_listen_port,
        RASA_SERVERS=upstream_lines(rasa_ports),
        RASA_BACKUPS=upstream_lines(rasa_ports, "max_fails=0 backup"),
        ACTION_SERVERS=upstream_lines(action_ports),
        LIMIT_EXEMPT="".join(f"        {address} 1;\n" for address in limit_exempt),
    )


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    run_dir, listen_port, actions_listen_port, rasa_ports, action_ports = argv
    print(render(run_dir, int(listen_port), [int(p) for p in rasa_ports.split()],
                 int(actions_listen_port), [int(p) for p in action_ports.split()],
                 os.environ.get("NGINX_LIMIT_EXEMPT", "").split()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
