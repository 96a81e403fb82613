"""The limits with several servers: the per-sender limit shared by two Rasa servers through the
real Redis, and nginx's per-address limit in front of the webhooks (deploy/nginx.conf), on the
cluster of tests/cluster.py (real PostgreSQL, Redis and nginx; a throw-away database and a key
prefix of its own in Redis). The window is long, so it cannot close during the test.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.cluster import Cluster, stored_user_texts

pytestmark = pytest.mark.integration

LIMIT, WINDOW = 4, 600
QUESTION, WORD = "Where is the headquarters of IOM?", "Geneva"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    env = {"IOM_RATE_LIMIT": f"{LIMIT}/{WINDOW}s",
           "IOM_RATE_LIMIT_PREFIX": f"iom:test-rate:{uuid.uuid4().hex}:"}
    with Cluster(tmp_path_factory.mktemp("throttle-scaled"), rasa_servers=2, env=env) as running:
        yield running


def post(url: str, body=None, method: str = "POST") -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_limit_holds_across_two_servers(cluster):
    sender = f"both-{uuid.uuid4().hex[:8]}"
    statuses = []
    for n in range(LIMIT + 4):  # alternately to server 0 and server 1, not through nginx
        url = cluster.rasa_url(n % 2) + "/webhooks/rest/webhook"
        status, headers, raw = post(url, {"sender": sender, "message": QUESTION})
        statuses.append(status)
        if status == 200:
            assert WORD in raw.decode(), raw
        else:
            assert status == 429 and 1 <= int(headers["Retry-After"]) <= WINDOW, (status, raw)
    assert statuses == [200] * LIMIT + [429] * 4
    assert stored_user_texts(cluster.settings, cluster.db_name, sender) == [QUESTION] * LIMIT


def test_nginx_limits_requests_per_address(cluster):
    """From one address, far more requests to a webhook than nginx allows (10/s, bursts of 50):
    the excess gets nginx's 429 with Retry-After and a JSON error, and no more pass than the
    limit allows over the time taken (GETs of the REST channel's health URL: cheap for Rasa)."""
    url = cluster.url + "/webhooks/rest/"
    started = time.monotonic()
    results = [post(url, method="GET") for _ in range(200)]
    elapsed = time.monotonic() - started
    passed = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 429]
    assert len(passed) + len(refused) == len(results)
    assert refused, f"nothing refused in {elapsed:.1f} s"
    assert len(passed) <= 50 + 10 * elapsed + 1, (len(passed), elapsed)
    status, headers, raw = refused[0]
    assert headers["Retry-After"] == "1" and json.loads(raw)["retry_after"] == 1
    # Other paths (socket.io, the page's health check) are not counted.
    assert post(cluster.url + "/", method="GET")[0] == 200
