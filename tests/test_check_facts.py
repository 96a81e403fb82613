"""`make check-facts` (python -m actions.check_facts): facts dated long ago are listed "to re-check"
with their sources, without failing; a fact without a date or a source fails the check.

The command is run as the editor runs it, on a copy of the facts file, with today's real date."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.fact_dates import as_of_start, months_old, to_recheck
from actions.facts import DEFAULT_FACTS_PATH
from tests.servers import BIN, ROOT

ORIGINAL = yaml.safe_load(DEFAULT_FACTS_PATH.read_text(encoding="utf-8"))
TODAY = date.today()


def _last_month() -> str:
    year, month = (TODAY.year, TODAY.month - 1) if TODAY.month > 1 else (TODAY.year - 1, 12)
    return f"{year}-{month:02d}"


def _months_ago(months: int) -> str:
    index = TODAY.year * 12 + TODAY.month - 1 - months
    return f"{index // 12}-{index % 12 + 1:02d}"


def facts_file(tmp_path: Path, dates: dict, default: str, drop: tuple = ()) -> Path:
    """The project's facts with every fact (and the states list) dated `default`, except `dates`;
    `drop` = (fact id, key) pairs to remove."""
    data = yaml.safe_load(yaml.safe_dump(ORIGINAL))
    for fact_id, fact in data["facts"].items():
        fact["as_of"] = dates.get(fact_id, default)
    data["states_list"]["as_of"] = dates.get("states_list", default)
    for fact_id, key in drop:
        del data["facts"][fact_id][key]
    path = tmp_path / "facts.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def check(path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "FACTS_MAX_AGE_MONTHS"}
    environment.update(env)
    return subprocess.run(
        [str(BIN / "python"), "-m", "actions.check_facts", "--facts", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=environment,
    )


def listed(stdout: str) -> list:
    """The keys listed to re-check ("  identity: as of 2019 (...)")."""
    return [line.split(":")[0].strip() for line in stdout.splitlines() if line.startswith("  ") and ": as of " in line]


def test_a_fact_dated_long_ago_is_listed_with_its_sources_and_one_dated_last_month_is_not(tmp_path):
    result = check(facts_file(tmp_path, {"xenophobia": "2019"}, default=_last_month()))
    assert result.returncode == 0, result.stderr  # advice, not a failure
    assert f"facts.yml is valid: {len(ORIGINAL['facts'])} facts" in result.stdout
    assert listed(result.stdout) == ["xenophobia"]
    assert f"To re-check: 1 dated more than 12 months before {TODAY.isoformat()}" in result.stdout
    assert "  xenophobia: as of 2019 (" in result.stdout
    # Its sources in every language, to check it on.
    for url in ("https://www.iom.int/xenophobia", "https://www.iom.int/fr/qui-sommes-nous",
                "https://www.iom.int/es/quienes-somos"):
        assert f"      {url}\n" in result.stdout


def test_nothing_old_says_so(tmp_path):
    result = check(facts_file(tmp_path, {}, default=_last_month()))
    assert result.returncode == 0 and listed(result.stdout) == []
    assert f"No fact is older than 12 months on {TODAY.isoformat()}." in result.stdout


def test_the_age_limit_is_set_by_facts_max_age_months(tmp_path):
    path = facts_file(tmp_path, {"director_general": _months_ago(8)}, default=_last_month())
    assert listed(check(path).stdout) == []  # 8 months: not older than the default 12
    six = check(path, FACTS_MAX_AGE_MONTHS="6")
    assert six.returncode == 0 and listed(six.stdout) == ["director_general"]
    assert "more than 6 months before" in six.stdout
    wrong = check(path, FACTS_MAX_AGE_MONTHS="six")
    assert wrong.returncode == 2 and "FACTS_MAX_AGE_MONTHS" in wrong.stderr


@pytest.mark.parametrize("key, problem", [("as_of", "'as_of' is a required property"),
                                          ("sources", "'sources' is a required property")])
def test_a_fact_without_a_date_or_a_source_fails(tmp_path, key, problem):
    result = check(facts_file(tmp_path, {}, default=_last_month(), drop=(("history", key),)))
    assert result.returncode == 1
    assert "facts.history" in result.stderr and problem in result.stderr


def test_the_project_facts_pass_the_check():
    result = subprocess.run([str(BIN / "python"), "-m", "actions.check_facts"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "facts/facts.yml is valid" in result.stdout and "175 Member States, 8 Observer States" in result.stdout


# --- Ages, on a fixed day (the day issue 22 was written for) -----------------------------------------

DAY = date(2026, 12, 2)


@pytest.mark.parametrize("as_of, start, months", [
    ("2025", date(2025, 1, 1), 23),      # a year counts from its first day
    ("2025-12", date(2025, 12, 1), 12),
    ("2025-12-02", date(2025, 12, 2), 12),
    ("2026-11", date(2026, 11, 1), 1),
    ("2021-09", date(2021, 9, 1), 63),
    ("2027", date(2027, 1, 1), 0),       # a date in the future is not old
])
def test_as_of_start_and_age(as_of, start, months):
    assert as_of_start(as_of) == start and months_old(as_of, DAY) == months


def test_older_than_twelve_months_means_before_the_same_day_a_year_earlier():
    data = yaml.safe_load(yaml.safe_dump(ORIGINAL))
    for fact in data["facts"].values():
        fact["as_of"] = "2026-11"
    data["states_list"]["as_of"] = "2026"
    data["facts"]["identity"]["as_of"] = "2025-12-01"  # a year and a day
    data["facts"]["history"]["as_of"] = "2025-12-02"   # exactly a year: not older
    data["facts"]["leadership"]["as_of"] = "2025"
    entries = to_recheck(data, DAY)
    assert [(e.key, e.months) for e in entries] == [("leadership", 23), ("identity", 12)]
    assert entries[0].sources[0] == "https://www.iom.int/iom-organizational-structure"
    assert [e.key for e in to_recheck(data, DAY, max_age_months=24)] == []
