"""A pytest plugin (``-p pynamodb_parity_report``) for the runs of PynamoDB's tests: writes
each test's outcome (with the first line of a failure), and each file that failed to
collect, as JSON to the path in
``PYNAMODB_PARITY_REPORT``."""

from __future__ import annotations

import json
import os
from typing import Any

_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
_outcomes: dict[str, str] = {}
_collection_errors: dict[str, str] = {}
_messages: dict[str, str] = {}


def _record(nodeid: str, outcome: str) -> None:
    previous = _outcomes.get(nodeid)
    if previous is None or _RANK[outcome] > _RANK[previous]:
        _outcomes[nodeid] = outcome


def pytest_runtest_logreport(report: Any) -> None:
    crash = getattr(report.longrepr, "reprcrash", None)
    if report.failed and crash is not None and report.nodeid not in _messages:
        _messages[report.nodeid] = crash.message.strip().splitlines()[0][:300]
    if report.when == "call":
        _record(report.nodeid, "skipped" if report.skipped else report.outcome)
    elif report.failed:
        _record(report.nodeid, "error")  # a setup or teardown failure
    elif report.skipped:
        _record(report.nodeid, "skipped")
    else:
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _collection_errors[report.nodeid] = str(report.longrepr).strip().splitlines()[-1]


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("PYNAMODB_PARITY_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(
                {
                    "outcomes": _outcomes,
                    "collection_errors": _collection_errors,
                    "messages": _messages,
                },
                stream,
            )
