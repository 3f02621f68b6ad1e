"""PynamoDB's own unit tests, run on `EncryptedModel`: fetch, patch, run three ways, compare.

PynamoDB's tests are PynamoDB's code: they are never copied into this repository. The sdist
on the package index carries its unit tests; it is downloaded once with pip into the
git-ignored ``.cache/pynamodb-sdist/`` (as tests/interop does for the reference's vectors).
``PYNAMODB_ENCRYPTION_PYNAMODB_TESTS`` may instead point at the ``tests`` folder of a PynamoDB
checkout at the same tag, which also has the support files the sdist leaves out (``data.py``,
``deep_eq.py``, ``response.py``), so that ``test_model.py`` and the connection tests run too.

Each test file that imports ``Model`` from ``pynamodb.models`` gets that one line replaced by
an import of ``pynamodb_parity_shim.Model`` (same line number, nothing else touched); the
shim's mode says whether that is PynamoDB's ``Model`` or an `EncryptedModel` without or with
markers. A test's *difference* is an outcome in an encrypted mode other than its outcome in
the plain mode. ``pynamodb_differences.json`` lists the expected ones, each with a reason
that docs/models.md's "Differences from PynamoDB" table explains.

``python tests/compat/_pynamodb_suite.py`` runs the three modes and prints the differences
as JSON entries (to review and paste into the list) and the docs table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
if str(HERE.parent) not in sys.path:  # tests/, for _sdist (when run as a script)
    sys.path.insert(0, str(HERE.parent))

from _sdist import SdistUnavailableError, download_sdist, extract_members  # noqa: E402

DISTRIBUTION = "pynamodb"
VERSION = "6.1.0"
CACHE_DIR = REPO_ROOT / ".cache" / "pynamodb-sdist"
DIFFERENCES_FILE = HERE / "pynamodb_differences.json"
MODELS_DOC = REPO_ROOT / "docs" / "models.md"
MODES = ("plain", "unmarked", "marked")
ENCRYPTED_MODES = ("unmarked", "marked")
OVERRIDE_ENV = "PYNAMODB_ENCRYPTION_PYNAMODB_TESTS"
IMPORT_LINE = "from pynamodb.models import Model"
SHIM_LINE = "from pynamodb_parity_shim import Model  # pynamodb-encryption's parity patch"
# PynamoDB's pytest.ini sets these with pytest-env; its mocked clients need some credentials.
_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "1",
    "AWS_SECRET_ACCESS_KEY": "2",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_LOCAL_IMPORT = re.compile(r"^from (?:\.|tests\.)(\w+) import", re.MULTILINE)
TABLE_START = "<!-- pynamodb-differences:start -->"
TABLE_END = "<!-- pynamodb-differences:end -->"


# ---------------------------------------------------------------------------------------------
# Obtaining and patching PynamoDB's tests


def pynamodb_tests() -> Path:
    """PynamoDB's ``tests`` folder (sdist, or the override). Raises SdistUnavailableError."""
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        path = Path(override)
        if not (path / "test_attributes.py").is_file():
            raise SdistUnavailableError(f"{path} is not PynamoDB's tests folder")
        return path
    extracted = CACHE_DIR / f"tests-{VERSION}"
    if (extracted / "test_attributes.py").is_file():
        return extracted
    archive = download_sdist(DISTRIBUTION, VERSION, CACHE_DIR)
    extract_members(archive, f"{DISTRIBUTION}-{VERSION}/tests/", extracted)
    return extracted


@dataclass(frozen=True)
class PreparedSuite:
    root: Path
    #: Test files run (relative to root, e.g. ``tests/test_model.py``).
    files: tuple[str, ...]
    #: Test files left out, with the reason (missing support files in the sdist).
    left_out: Mapping[str, str]


def prepare(source: Path, work: Path) -> PreparedSuite:
    """Copy PynamoDB's tests to ``work/tests`` and patch their ``Model`` import."""
    if work.exists():
        shutil.rmtree(work)
    target = work / "tests"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "integration"))
    # Our own minimal config, so that this repository's pytest settings do not apply.
    (work / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    ddblocal: needs DynamoDB Local (integration tests only)\n"
    )
    files: list[str] = []
    left_out: dict[str, str] = {}
    # A file that imports a support module the sdist lacks (or a file that does) is left out.
    imports = {
        path.stem: set(_LOCAL_IMPORT.findall(path.read_text(encoding="utf-8")))
        for path in target.glob("*.py")
    }
    unusable: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for module, needs in imports.items():
            missing = {n for n in needs if n not in imports or n in unusable}
            if missing and unusable.get(module) != missing:
                unusable[module] = missing
                changed = True
    for path in sorted(target.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        relative = f"tests/{path.name}"
        if path.stem in unusable:
            left_out[relative] = "needs " + ", ".join(
                f"tests/{m}.py" for m in sorted(unusable[path.stem])
            )
            continue
        lines = text.split("\n")
        hits = [i for i, line in enumerate(lines) if line.strip() == IMPORT_LINE]
        if len(hits) > 1:
            raise RuntimeError(f"{relative}: {IMPORT_LINE!r} appears {len(hits)} times")
        for i in hits:
            lines[i] = lines[i].replace(IMPORT_LINE, SHIM_LINE)
        path.write_text("\n".join(lines), encoding="utf-8")
        files.append(relative)
    return PreparedSuite(work, tuple(files), left_out)


# ---------------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class RunResult:
    mode: str
    outcomes: Mapping[str, str]
    collection_errors: Mapping[str, str]
    messages: Mapping[str, str]
    seconds: float
    output_tail: str


def run_modes(suite: PreparedSuite, modes: Sequence[str] = MODES) -> dict[str, RunResult]:
    """Run the suite once per mode, in parallel subprocesses."""
    started: dict[str, tuple[subprocess.Popen[str], Path, float]] = {}
    for mode in modes:
        report = suite.root / f"report-{mode}.json"
        report.unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(_TEST_ENV)
        env["PYNAMODB_PARITY_MODE"] = mode
        env["PYNAMODB_PARITY_REPORT"] = str(report)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(HERE), str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")) if p
        )
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("PYTEST_PLUGINS", None)
        command = [
            sys.executable, "-m", "pytest",
            "-c", str(suite.root / "pytest.ini"), "--rootdir", str(suite.root),
            "-p", "no:cacheprovider", "-p", "pynamodb_parity_report",
            "-q", "--no-header", "-o", "console_output_style=classic",
            "--continue-on-collection-errors",
            *suite.files,
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=suite.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started[mode] = (process, report, time.monotonic())
    results: dict[str, RunResult] = {}
    for mode, (process, report, start) in started.items():
        output, _ = process.communicate(timeout=600)
        seconds = time.monotonic() - start
        tail = "\n".join(output.strip().splitlines()[-15:])
        if not report.is_file():
            raise RuntimeError(
                f"the {mode} run wrote no report (exit {process.returncode}):\n{tail}"
            )
        data = json.loads(report.read_text())
        results[mode] = RunResult(
            mode, data["outcomes"], data["collection_errors"], data["messages"], seconds, tail
        )
    return results


# ---------------------------------------------------------------------------------------------
# Comparing


@dataclass(frozen=True)
class Difference:
    test: str
    mode: str
    plain: str
    outcome: str
    message: str = ""


def differences(results: Mapping[str, RunResult]) -> list[Difference]:
    """Every test whose outcome in an encrypted mode differs from the plain run."""
    plain = results["plain"].outcomes
    found: list[Difference] = []
    for mode in ENCRYPTED_MODES:
        if mode not in results:
            continue
        outcomes = results[mode].outcomes
        for test in sorted(set(plain) | set(outcomes)):
            base, other = plain.get(test, "missing"), outcomes.get(test, "missing")
            if base != other:
                message = results[mode].messages.get(test, "")
                found.append(Difference(test, mode, base, other, message))
    return found


def load_expected(path: Path = DIFFERENCES_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Comparison:
    #: Differences not in the list: a regression (or a new PynamoDB test) to look at.
    new: list[Difference]
    #: Listed (test, mode) pairs whose file ran but which no longer differ: shrink the list.
    gone: list[tuple[str, str]]
    #: Listed differences whose outcome changed (e.g. failed -> error).
    changed: list[tuple[Difference, str]]


def compare(
    found: Sequence[Difference], expected: Mapping[str, Any], files_run: Sequence[str]
) -> Comparison:
    listed: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in expected["differences"]:
        for mode, outcome in entry["modes"].items():
            listed[(entry["test"], mode)] = {"outcome": outcome, "reason": entry["reason"]}
    seen = {(d.test, d.mode): d for d in found}
    new = [d for key, d in seen.items() if key not in listed]
    changed = [
        (d, listed[key]["outcome"])
        for key, d in seen.items()
        if key in listed and listed[key]["outcome"] != d.outcome
    ]
    ran = set(files_run)
    gone = [key for key in listed if key not in seen and key[0].split("::", 1)[0] in ran]
    return Comparison(sorted(new, key=lambda d: (d.test, d.mode)), sorted(gone), changed)


# ---------------------------------------------------------------------------------------------
# The docs table


def render_table(expected: Mapping[str, Any]) -> str:
    """The "Differences from PynamoDB" table of docs/models.md, from the list."""
    counts: dict[str, dict[str, int]] = {
        r: {m: 0 for m in ENCRYPTED_MODES} for r in expected["reasons"]
    }
    for entry in expected["differences"]:
        for mode in entry["modes"]:
            counts[entry["reason"]][mode] += 1
    lines = [
        "| difference | why | explained in | PynamoDB tests (no markers / markers) |",
        "|---|---|---|---|",
    ]
    for reason, info in expected["reasons"].items():
        c = counts[reason]
        lines.append(
            f"| {info['difference']} | {info['why']} | [{info['page_title']}]({info['docs']}) "
            f"| {c['unmarked']} / {c['marked']} |"
        )
    return "\n".join(lines)


def table_in_docs(text: str) -> str:
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    return text[start:end].strip()


def _suggest(found: Sequence[Difference]) -> list[dict[str, Any]]:
    by_test: dict[str, dict[str, str]] = {}
    for d in found:
        by_test.setdefault(d.test, {})[d.mode] = d.outcome
    messages = {d.test: d.message for d in found}
    return [
        {"test": t, "modes": m, "reason": "?", "message": messages[t]}
        for t, m in sorted(by_test.items())
    ]


def main() -> int:
    suite = prepare(pynamodb_tests(), CACHE_DIR / "work")
    results = run_modes(suite)
    for mode, result in results.items():
        counts: dict[str, int] = {}
        for outcome in result.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{mode}: {counts} in {result.seconds:.1f} s", file=sys.stderr)
    print(f"left out: {dict(suite.left_out)}", file=sys.stderr)
    found = differences(results)
    comparison = compare(found, load_expected(), suite.files)
    print(json.dumps(_suggest(comparison.new), indent=2))
    print(f"gone: {comparison.gone}", file=sys.stderr)
    print(f"changed: {comparison.changed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
