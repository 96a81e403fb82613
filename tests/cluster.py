"""Several real Rasa servers and action servers behind a real nginx, sharing PostgreSQL and Redis.

The multi-process sibling of `tests/servers.py` (whose helpers it uses), for tests/test_scaled.py
and bench/scaled.py. It runs what a deployment runs: `deploy/endpoints.yml` (tracker store
on PostgreSQL, lock store on Redis, all from the environment) and `deploy/nginx.conf`, with a
throw-away PostgreSQL database created for the run and dropped afterwards. Ports are free
loopback ports.

Environment (defaults are this project's CI machines: trust authentication on 127.0.0.1):
  DB_HOST (127.0.0.1) DB_PORT (5432) DB_USER (postgres) DB_PASSWORD ("")
  REDIS_HOST (127.0.0.1) REDIS_PORT (6379) REDIS_PASSWORD ("")
  SCALED_LOCK_STORE: "atomic" (default, deploy/endpoints.yml as is), "redis" (Rasa's stock
  RedisLockStore) or "none" (each process its own in-memory lock store): for experiments that
  show what the lock store is for.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from deploy import nginx
from tests.processes import free_port, stop_process, wait_http, wait_port
from tests.servers import BIN, MODEL, RASA_SERVER, ROOT, http

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def db_settings() -> Dict[str, str]:
    return {
        "DB_HOST": os.environ.get("DB_HOST", "127.0.0.1"),
        "DB_PORT": os.environ.get("DB_PORT", "5432"),
        "DB_USER": os.environ.get("DB_USER", "postgres"),
        "DB_PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "REDIS_HOST": os.environ.get("REDIS_HOST", "127.0.0.1"),
        "REDIS_PORT": os.environ.get("REDIS_PORT", "6379"),
        "REDIS_PASSWORD": os.environ.get("REDIS_PASSWORD", ""),
    }


def _admin_connection(settings: Dict[str, str]):
    import psycopg2

    connection = psycopg2.connect(
        host=settings["DB_HOST"], port=settings["DB_PORT"], user=settings["DB_USER"],
        password=settings["DB_PASSWORD"] or None, dbname="postgres", connect_timeout=10,
    )
    connection.autocommit = True
    return connection


def _admin_execute(settings: Dict[str, str], statement: str) -> None:
    connection = _admin_connection(settings)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def create_database(settings: Dict[str, str]) -> str:
    name = f"iom_scaled_{secrets.token_hex(6)}"
    _admin_execute(settings, f'CREATE DATABASE "{name}"')
    return name


def drop_database(settings: Dict[str, str], name: str) -> None:
    _admin_execute(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_user_texts(settings: Dict[str, str], db_name: str, sender: str) -> List[str]:
    """The user messages of one conversation as PostgreSQL holds them, in stored order."""
    import psycopg2

    connection = psycopg2.connect(
        host=settings["DB_HOST"], port=settings["DB_PORT"], user=settings["DB_USER"],
        password=settings["DB_PASSWORD"] or None, dbname=db_name,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id",
                (sender,),
            )
            return [json.loads(row[0]).get("text") for row in cursor.fetchall()]
    finally:
        connection.close()


def endpoints_text(lock_store: str) -> str:
    """deploy/endpoints.yml, or a variant of it for the lock store experiments."""
    text = (DEPLOY / "endpoints.yml").read_text()
    if lock_store == "atomic":
        return text
    if lock_store == "redis":
        return text.replace("type: server.lock_store.AtomicRedisLockStore", "type: redis")
    if lock_store == "none":
        head, rest = text.split("\nlock_store:\n", 1)
        tail = rest[rest.index("\n\n"):]  # the block ends at the first blank line
        return head + tail
    raise ValueError(f"unknown lock store variant {lock_store!r}")


class Cluster:
    def __init__(self, workdir: Path, rasa_servers: int = 2, action_servers: int = 1,
                 lock_store: Optional[str] = None,
                 credentials: str = "channels.rest.GuardedRestInput:\n",
                 env: Optional[Dict[str, str]] = None,
                 rasa_env: Optional[Callable[[int], Dict[str, str]]] = None,
                 address_limit: bool = True) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.settings = db_settings()
        self.lock_store = lock_store or os.environ.get("SCALED_LOCK_STORE", "atomic")
        self.token = secrets.token_hex(16)
        self.action_token = secrets.token_urlsafe(32)  # shared by all servers, as run-scaled does
        self.port = free_port()
        self.actions_listen_port = free_port()
        self.rasa_ports = [free_port() for _ in range(rasa_servers)]
        self.action_ports = [free_port() for _ in range(action_servers)]
        # The project's REST channel (guard, drain on stop), as credentials.yml deploys it.
        self.credentials = credentials
        self.extra_env = dict(env or {})  # for every process (e.g. IOM_RATE_LIMIT)
        self.rasa_env = rasa_env  # per Rasa server index, on top of that
        # nginx's per-address limit; load tests (all from 127.0.0.1) exempt this machine.
        self.address_limit = address_limit
        self.db_name: Optional[str] = None
        self.rasa: List[Optional[subprocess.Popen]] = [None] * rasa_servers
        self.actions: List[subprocess.Popen] = []
        self.nginx: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        """nginx: what clients and channels talk to."""
        return f"http://127.0.0.1:{self.port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    @property
    def env(self) -> Dict[str, str]:
        return {
            **os.environ, **self.settings, "DB_NAME": self.db_name or "",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_listen_port}/webhook",
            "RASA_TELEMETRY_ENABLED": "false", "IOM_ACTION_TOKEN": self.action_token,
            # As `make run-scaled`: nginx's X-Forwarded-For believed; the per-address limits of
            # the Rasa servers off unless a test sets them (its clients all share 127.0.0.1).
            "IOM_TRUSTED_PROXIES": "127.0.0.1",
            "IOM_ADDRESS_RATE_LIMIT": "off", "IOM_NEW_CONVERSATION_LIMIT": "off",
            # No metrics ports unless a test asks (never the defaults 9102/9103 a developer may hold).
            "IOM_METRICS_PORT": "off", **self.extra_env,
        }

    def _spawn(self, args: List[str], log_name: str,
               env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(self.workdir / log_name, "ab")
        return subprocess.Popen(args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> "Cluster":
        self.db_name = create_database(self.settings)
        (self.workdir / "endpoints.yml").write_text(endpoints_text(self.lock_store))
        (self.workdir / "credentials.yml").write_text(self.credentials)
        for i, port in enumerate(self.action_ports):
            self.actions.append(self._spawn(
                [str(BIN / "rasa"), "run", "actions", "--port", str(port)], f"actions{i}.log"))
        run_dir = self.workdir / "nginx"
        run_dir.mkdir(exist_ok=True)
        # deploy/nginx.conf as `make run-scaled` fills it in (deploy/nginx.py).
        (run_dir / "nginx.conf").write_text(nginx.render(
            run_dir, self.port, self.rasa_ports, self.actions_listen_port, self.action_ports,
            () if self.address_limit else ["127.0.0.1"]))
        # As root, nginx's workers would run as "nobody", who cannot enter a private temp folder.
        user = " user root;" if os.geteuid() == 0 else ""
        self.nginx = self._spawn(
            [NGINX, "-p", str(run_dir), "-c", "nginx.conf", "-e", "stderr",
             "-g", "daemon off;" + user],
            "nginx.log")
        wait_port(self.port, self.nginx, self.workdir / "nginx.log")
        for i, (port, process) in enumerate(zip(self.action_ports, self.actions)):
            wait_http(f"http://127.0.0.1:{port}/health", process, self.workdir / f"actions{i}.log")
        # The first Rasa server creates the tables; the others start (each takes ~15 s to load
        # the model) once they exist, so that two processes never race to create them.
        self._launch_rasa(0)
        self._wait_for_tables()
        for i in range(1, len(self.rasa_ports)):
            self._launch_rasa(i)
        for i in range(len(self.rasa_ports)):
            self._wait_rasa(i)
        return self

    def _launch_rasa(self, index: int) -> None:
        self.rasa[index] = self._spawn(
            [
                *RASA_SERVER, "--model", str(MODEL),
                "--endpoints", str(self.workdir / "endpoints.yml"),
                "--credentials", str(self.workdir / "credentials.yml"),
                "--interface", "127.0.0.1", "--port", str(self.rasa_ports[index]),
                "--enable-api", "--auth-token", self.token,
            ],
            f"rasa{index}.log",
            self.rasa_env(index) if self.rasa_env else None,
        )

    def _wait_for_tables(self, timeout: float = 180) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rasa[0].poll() is not None:
                self._wait_rasa(0)  # raises with the log
            connection = psycopg2.connect(
                host=self.settings["DB_HOST"], port=self.settings["DB_PORT"],
                user=self.settings["DB_USER"], password=self.settings["DB_PASSWORD"] or None,
                dbname=self.db_name,
            )
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT to_regclass('public.events')")
                    if cursor.fetchone()[0]:
                        return
            finally:
                connection.close()
            time.sleep(0.5)
        raise RuntimeError("the first Rasa server did not create its tables")

    def _wait_rasa(self, index: int) -> None:
        wait_http(self.rasa_url(index) + "/", self.rasa[index], self.workdir / f"rasa{index}.log")

    def start_rasa(self, index: int) -> None:
        self._launch_rasa(index)
        self._wait_rasa(index)

    def stop_rasa(self, index: int, sig: int = signal.SIGTERM) -> None:
        """Stop one Rasa server as an orchestrator does (SIGTERM, then SIGKILL after 20 s)."""
        stop_process(self.rasa[index], sig)

    def stop(self) -> None:
        for process in self.rasa:
            stop_process(process)
        stop_process(self.nginx, signal.SIGQUIT)
        for process in self.actions:
            stop_process(process)
        if self.db_name:
            drop_database(self.settings, self.db_name)
            self.db_name = None

    def __enter__(self) -> "Cluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- talking to it ------------------------------------------------------------------------

    def say(self, sender: str, text: str, metadata: Optional[Dict] = None,
            server: Optional[int] = None, timeout: float = 60) -> tuple[int, List[Dict]]:
        """Send one message through nginx, or straight to Rasa server `server`.

        Returns (HTTP status, replies); replies is [] unless the status is 200."""
        base = self.url if server is None else self.rasa_url(server)
        body: Dict = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        try:
            status, raw = http("POST", base + "/webhooks/rest/webhook", body, timeout=timeout)
        except OSError as error:  # connection refused/reset: the user got nothing
            return 0, [{"error": str(error)}]
        return status, (json.loads(raw) if status == 200 else [])

    def tracker(self, sender: str, server: Optional[int] = None) -> Dict:
        base = self.url if server is None else self.rasa_url(server)
        status, raw = http("GET", f"{base}/conversations/{sender}/tracker?token={self.token}")
        assert status == 200, (status, raw[:500])
        return json.loads(raw)
