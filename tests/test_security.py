"""Security: what `make run` (scripts/run.sh) exposes, no secret in the repository, audited pins."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.processes import free_port, stop_process, wait_http
from tests.servers import ROOT, http

RUN_SH = ROOT / "scripts" / "run.sh"


# --- scripts/run.sh: loopback only, no HTTP API without a token ------------------------------

def listeners(port: int) -> set:
    """Local addresses listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


class RunSh:
    """scripts/run.sh started as `make run` does, every *_PORT it knows on a free port."""

    def __init__(self, token: str | None) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "RASA_AUTH_TOKEN"}
        self.env["RASA_TELEMETRY_ENABLED"] = "false"
        self.ports = {
            name: free_port() for name in set(re.findall(r"\b(\w+_PORT)=\$\{\1:-", RUN_SH.read_text()))
        }
        self.env.update({name: str(port) for name, port in self.ports.items()})
        if token:
            self.env["RASA_AUTH_TOKEN"] = token
        self.log = open(ROOT / "results" / "run-sh-test.log", "ab")
        self.process = subprocess.Popen(
            ["bash", str(RUN_SH)], cwd=ROOT, env=self.env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.ports['RASA_PORT']}"
        # Up when the chat page answers: run.sh starts it last, once the action server and the
        # Rasa server both answer. (Waiting for the Rasa server alone raced the action server,
        # which run.sh starts beside it, and a port not yet listening was skipped unchecked.)
        web = f"http://127.0.0.1:{self.ports['WEB_PORT']}/health"
        wait_http(web, self.process, ROOT / "results" / "run-sh-test.log", timeout=240)

    def stop(self) -> None:
        stop_process(self.process, grace=30)
        self.log.close()


@pytest.fixture
def results_dir():
    (ROOT / "results").mkdir(exist_ok=True)


@pytest.mark.integration
def test_run_sh_without_token_has_no_http_api_and_listens_on_loopback_only(results_dir):
    server = RunSh(token=None)
    try:
        for path in ("/status", "/conversations/x/tracker", "/model", "/domain"):
            status, _ = http("GET", server.url + path)
            assert status == 404, (path, status)  # the HTTP API is not there at all
        status, _ = http("PUT", server.url + "/model", {"model_file": "/tmp/x.tar.gz"})
        assert status in (404, 405)
        # The REST channel itself works (and is the hardened one).
        status, body = http("POST", server.url + "/webhooks/rest/webhook", {"message": "hi"})
        assert status == 400 and b"sender" in body
        # Every port run.sh is given: the Rasa server, the action server, the page, the metrics.
        assert set(server.ports) == {"RASA_PORT", "ACTIONS_PORT", "WEB_PORT", "IOM_METRICS_PORT"}
        for name, port in server.ports.items():
            addresses = listeners(port)
            assert addresses, f"{name} {port}: nothing listens"
            assert addresses <= LOOPBACK, f"{name} {port} listens on {addresses}"
    finally:
        server.stop()


@pytest.mark.integration
def test_run_sh_with_token_protects_the_http_api(results_dir):
    token = "t-" + os.urandom(12).hex()
    server = RunSh(token=token)
    try:
        assert http("GET", server.url + "/status")[0] == 401
        assert http("GET", server.url + "/status?token=wrong")[0] == 401
        assert http("GET", server.url + "/conversations/x/tracker")[0] == 401
        assert http("PUT", server.url + "/model", {"model_file": "/tmp/x.tar.gz"})[0] == 401
        assert http("GET", f"{server.url}/status?token={token}")[0] == 200
        # Issue 21: the token is on no command line (`ps` shows those to every user).
        assert [pid for pid, line in command_lines().items() if token in line] == []
        # The action server it started answers only the Rasa server (its per-run secret).
        actions = f"http://127.0.0.1:{server.ports['ACTIONS_PORT']}"
        assert http("POST", actions + "/webhook", {"next_action": "action_answer_fact"})[0] == 401
        assert http("GET", actions + "/health")[0] == 200
    finally:
        server.stop()


def command_lines() -> dict:
    """pid -> command line of every process of the machine, as `ps` shows them."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[entry.name] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")
            except OSError:
                continue
    return found


# --- no secret in the repository ------------------------------------------------------------

SECRET_PATTERNS = {
    "Telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Twilio SID/key": re.compile(r"\b(?:AC|SK)[0-9a-f]{32}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "OpenAI-style key": re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "assigned secret": re.compile(
        r"(?i)\w*(?:token|secret|password|passwd|api_?key)\w*[\"']?\s*[:=]\s*[\"']"
        r"(?=[^\"']*\d)(?=[^\"']*[A-Za-z])([^\"'\s$<>{}]{16,})[\"']"
    ),
}
PLACEHOLDER = re.compile(r"\.\.\.|x{4,}|changeme|example|your[-_]|dummy|placeholder", re.I)


def find_secrets(text: str) -> list:
    hits = []
    for name, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            if not PLACEHOLDER.search(match.group(0)):
                hits.append((name, match.group(0)[:12] + "…"))
    return hits


def repository_files() -> list:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\n")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def test_the_scanner_finds_planted_secrets():
    planted = {
        "Telegram bot token": "TOKEN = '" + "7012345678" + ":" + "AAH" + "q" * 32 + "'",
        "AWS access key": "key " + "AKIA" + "Q" * 16,
        "assigned secret": 'webhook_secret: "' + "s3cr3tValue" + "9" * 8 + '"',
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    }
    for name, sample in planted.items():
        assert name in {hit[0] for hit in find_secrets(sample)}, name
    assert find_secrets("export TELEGRAM_TOKEN='7012345678:AAH...'  # from BotFather") == []
    assert find_secrets('token: "${TELEGRAM_TOKEN}"') == []


def test_no_secret_in_the_repository():
    files = repository_files()
    assert len(files) > 20
    hits = []
    for path in files:
        if path.stat().st_size > 2_000_000 or path.suffix in {".gz", ".png", ".jpg", ".db", ".ico"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        hits += [(str(path.relative_to(ROOT)), *hit) for hit in find_secrets(text)]
    assert hits == [], f"token-like strings in the repository: {hits}"


def test_channel_settings_take_secrets_from_the_environment_only():
    import yaml

    for name in ("credentials.yml", "endpoints.yml"):
        data = yaml.safe_load((ROOT / name).read_text()) or {}
        for channel, settings in data.items():
            for key, value in (settings or {}).items() if isinstance(settings, dict) else []:
                if re.search(r"token|secret|password|passwd|api_?key|private_?key", key, re.I) and value not in (None, ""):
                    assert str(value).startswith("${"), f"{name}: {channel}.{key} is a literal value"


# --- dependency audit -------------------------------------------------------------------------

def test_audit_floor_check_fails_on_a_vulnerable_pin(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text((ROOT / "requirements.lock").read_text().replace("rasa==3.6.21", "rasa==3.6.20"))
    python = str(ROOT / ".venv" / "bin" / "python")
    bad = subprocess.run(
        [python, "scripts/audit_check.py", "--floors", "--lock", str(lock)], cwd=ROOT,
        capture_output=True, text=True,
    )
    assert bad.returncode == 1 and "CVE-2024-49375" in bad.stdout, bad.stdout
    good = subprocess.run(
        [python, "scripts/audit_check.py", "--floors"], cwd=ROOT, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout


def test_audit_report_fails_on_an_unaccepted_advisory(tmp_path):
    import json
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from audit_check import ignored_ids, report_problems
    finally:
        sys.path.pop(0)
    accepted = ignored_ids()
    report = {"dependencies": [
        {"name": "aiohttp", "version": "3.9.5", "vulns": [
            {"id": "GHSA-7gpw-8wmc-pm8g", "aliases": ["CVE-2024-52304"], "fix_versions": ["3.10.11"]}]},
        {"name": "sanic", "version": "21.12.2", "vulns": [
            {"id": "PYSEC-9999-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["99.0"]}]},
        {"name": "absl-py", "skip_reason": "Dependency not found on PyPI"},
    ]}
    (tmp_path / "r.json").write_text(json.dumps(report))
    found, skipped, audited = report_problems(report, accepted)
    assert audited == 2 and len(skipped) == 1
    assert len(found) == 1 and "CVE-2099-0001" in found[0]  # the accepted aiohttp one is not reported
    for line in (ROOT / "security" / "pip-audit-ignore.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "#" in line, f"accepted advisory without a reason: {line}"
            assert line.split()[0] in (ROOT / "SECURITY-ADVISORIES.md").read_text()
