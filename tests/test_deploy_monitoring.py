"""deploy/'s monitoring files (docs/operating.md, "Monitoring"): the Prometheus alert rules and
scrape configuration, the Grafana dashboard, the Helm probes and nginx's probe locations. No
Prometheus or Grafana runs here (Debian's prometheus package is a 96 MB server), so their structure
is checked: what Prometheus and Grafana need to load them, and that every metric they name is one
the servers expose (the names of the contract and of issue 25, written here)."""

from __future__ import annotations

import json
import re

import yaml

from tests.servers import ROOT

DEPLOY = ROOT / "deploy"
# What the Rasa server (9102) and the action server (9103) expose.
METRICS = {
    "iom_messages_total", "iom_reply_seconds_bucket", "iom_reply_seconds_count",
    "iom_reply_seconds_sum", "iom_not_understood_total", "iom_throttled_total",
    "iom_redactions_total", "iom_action_errors_total", "iom_answers_total", "iom_ready",
}
DURATION = re.compile(r"^\d+[smhd]$")
JOBS = {"iom-rasa", "iom-actions"}


def metric_names(expr: str) -> set:
    return set(re.findall(r"\biom_[a-z_]+", expr))


def balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_alert_rules_load_and_cover_what_issue_25_asks():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    [group] = rules["groups"]
    assert group["name"] and isinstance(group["rules"], list)
    alerts = {rule["alert"]: rule for rule in group["rules"]}
    assert set(alerts) == {"IOMNotReady", "IOMSlowReplies", "IOMNotUnderstood", "IOMActionErrors"}
    for name, rule in alerts.items():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, name
        assert isinstance(rule["expr"], str) and balanced(rule["expr"]), name
        assert metric_names(rule["expr"]) <= METRICS, (name, metric_names(rule["expr"]) - METRICS)
        assert DURATION.match(rule["for"]), name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"], name
    assert "iom_ready" in alerts["IOMNotReady"]["expr"]
    assert "histogram_quantile(0.95" in alerts["IOMSlowReplies"]["expr"]
    assert "> 0.5" in alerts["IOMSlowReplies"]["expr"]  # the threshold docs/operating.md explains
    assert {"iom_not_understood_total", "iom_messages_total"} <= metric_names(alerts["IOMNotUnderstood"]["expr"])
    assert "iom_action_errors_total" in alerts["IOMActionErrors"]["expr"]
    for job in re.findall(r'job=~"([^"]+)"', alerts["IOMNotReady"]["expr"]):
        assert set(job.split("|")) <= JOBS


def test_scrape_configuration_names_the_jobs_and_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == JOBS
    assert jobs["iom-rasa"]["static_configs"][0]["targets"] == ["127.0.0.1:9102"]
    assert jobs["iom-actions"]["static_configs"][0]["targets"] == ["127.0.0.1:9103"]


def test_dashboard_is_importable_and_shows_what_issue_25_asks():
    dashboard = json.loads((DEPLOY / "grafana" / "iom-dashboard.json").read_text())
    # Grafana's import: a title, panels, and the data source asked for at import time.
    assert dashboard["title"] and dashboard["uid"]
    [source] = dashboard["__inputs"]
    assert source["type"] == "datasource" and source["pluginId"] == "prometheus"
    variable = "${" + source["name"] + "}"
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    exprs = []
    for panel in panels:
        assert panel["type"] in {"timeseries", "stat", "bargauge", "table", "gauge"}, panel["title"]
        assert panel["datasource"]["uid"] == variable, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["refId"] and balanced(target["expr"]), panel["title"]
            assert metric_names(target["expr"]) <= METRICS, panel["title"]
            exprs.append(target["expr"])
    everything = "\n".join(exprs)
    for wanted in ("sum by (channel) (rate(iom_messages_total", "sum by (language) (rate(iom_messages_total",
                   "histogram_quantile(0.5,", "histogram_quantile(0.95,", "iom_not_understood_total",
                   "iom_throttled_total", "iom_action_errors_total", "sum by (topic)", "iom_ready"):
        assert wanted in everything, wanted
    # No overlapping panels: Grafana would move them.
    cells = set()
    for panel in panels:
        grid = panel["gridPos"]
        mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & mine, panel["title"]
        cells |= mine


def test_helm_probes_use_ready_and_live():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yml").read_text())
    assert values["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert values["livenessProbe"]["httpGet"]["path"] == "/live"
    channels = values["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    assert "server.operations.OperationsEndpoints" in channels  # what serves /ready and /live
    actions = values["rasa-action-server"]
    assert actions["readinessProbe"]["httpGet"]["path"] == "/health"
    assert actions["livenessProbe"]["httpGet"]["path"] == "/health"
    for chart in (values, actions):
        assert {"name": "IOM_METRICS_HOST", "value": "0.0.0.0"} in chart["extraEnv"]
    assert values["podAnnotations"]["prometheus.io/port"] == "9102"
    assert actions["podAnnotations"]["prometheus.io/port"] == "9103"


def test_nginx_answers_ready_and_live():
    conf = (DEPLOY / "nginx.conf").read_text()
    ready = re.search(r"location = /ready \{(.*?)\n        \}", conf, re.DOTALL)
    live = re.search(r"location = /live \{(.*?)\n        \}", conf, re.DOTALL)
    assert ready and "proxy_pass http://rasa;" in ready.group(1) and "http_503" in ready.group(1)
    assert live and "return 200" in live.group(1)
