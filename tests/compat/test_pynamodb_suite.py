"""PynamoDB's own unit tests as a standing compatibility check (issue 15).

PynamoDB 6.1.0's tests run three ways in parallel subprocesses: on PynamoDB's ``Model``, on
`EncryptedModel` with no markers, and with every non-key field marked `SignedAttribute`
(see ``_pynamodb_suite.py`` and ``pynamodb_parity_shim.py``). Every outcome that differs from
the plain run must be listed in ``pynamodb_differences.json`` with a reason that
docs/models.md explains; a new difference fails, a listed one that disappeared is reported
as a warning so that the list shrinks.

The tests come from PynamoDB's sdist (downloaded once into ``.cache/``); when it cannot be
downloaded the check is skipped on a developer machine and fails in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest
from _pynamodb_suite import (
    ENCRYPTED_MODES,
    HERE,
    MODELS_DOC,
    PreparedSuite,
    RunResult,
    compare,
    differences,
    load_expected,
    prepare,
    pynamodb_tests,
    render_table,
    run_modes,
    table_in_docs,
)

from _sdist import SdistUnavailableError

DOCS = MODELS_DOC.parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="module")
def suite_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[PreparedSuite, dict[str, RunResult]]:
    try:
        source = pynamodb_tests()
    except SdistUnavailableError as exc:
        message = f"PynamoDB's tests are unavailable (could not obtain the sdist): {exc}"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    suite = prepare(source, tmp_path_factory.mktemp("pynamodb-suite") / "work")
    if suite.left_out:
        # The sdist lacks PynamoDB's data.py and friends; a checkout runs them (see module doc).
        warnings.warn(
            "PynamoDB test files not run (missing from the sdist): "
            + ", ".join(f"{f} ({why})" for f, why in sorted(suite.left_out.items())),
            stacklevel=1,
        )
    return suite, run_modes(suite)


def test_pynamodb_suite_passes_on_plain_model(
    suite_run: tuple[PreparedSuite, dict[str, RunResult]],
) -> None:
    """The baseline: PynamoDB's tests pass here on its own Model, through the patched files,
    so every difference below is ours."""
    suite, results = suite_run
    plain = results["plain"]
    assert not plain.collection_errors, plain.output_tail
    assert len(plain.outcomes) >= 200, plain.output_tail
    failed = {t: o for t, o in plain.outcomes.items() if o not in ("passed", "skipped")}
    assert not failed, plain.output_tail
    for mode in ENCRYPTED_MODES:
        assert not results[mode].collection_errors, results[mode].output_tail
        assert set(results[mode].outcomes) == set(plain.outcomes)
    assert "tests/test_attributes.py" in suite.files


def test_pynamodb_suite_has_no_new_difference(
    suite_run: tuple[PreparedSuite, dict[str, RunResult]],
) -> None:
    suite, results = suite_run
    comparison = compare(differences(results), load_expected(), suite.files)
    if comparison.gone:
        warnings.warn(
            "listed differences from PynamoDB that no longer show (remove them from "
            "tests/compat/pynamodb_differences.json and regenerate the docs table): "
            + ", ".join(f"{test} [{mode}]" for test, mode in comparison.gone),
            stacklevel=1,
        )
    new = [f"{d.test} [{d.mode}: {d.plain} -> {d.outcome}] {d.message}" for d in comparison.new]
    assert not new, "new differences from PynamoDB:\n" + "\n".join(new)
    changed = [f"{d.test} [{d.mode}]: {d.outcome}, listed {was}" for d, was in comparison.changed]
    assert not changed, "\n".join(changed)


def test_shim_marks_non_key_fields_only_in_marked_mode() -> None:
    """The marked run really runs on markers (a shim that marked nothing would pass vacuously)."""
    probe = (
        "from pynamodb.attributes import UnicodeAttribute, VersionAttribute\n"
        "from pynamodb_parity_shim import Model\n"
        "class M(Model):\n"
        "    class Meta:\n"
        "        table_name = 't'\n"
        "    pk = UnicodeAttribute(hash_key=True)\n"
        "    name = UnicodeAttribute(null=True)\n"
        "    version = VersionAttribute()\n"
        "print(type(M.__mro__[1]).__name__, type(M.pk).__name__, type(M.name).__name__,\n"
        "      type(M.version).__name__, M.Meta.materials_provider is not None)\n"
    )
    seen = {}
    for mode in ("plain", "unmarked", "marked"):
        env = dict(os.environ, PYNAMODB_PARITY_MODE=mode)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(HERE), str(HERE.parents[1] / "src"), env.get("PYTHONPATH", "")) if p
        )
        if mode == "plain":
            probe_mode = probe.replace(", M.Meta.materials_provider is not None", "")
        else:
            probe_mode = probe
        result = subprocess.run(
            [sys.executable, "-c", probe_mode], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        seen[mode] = result.stdout.split()
    assert seen["plain"][1:] == ["UnicodeAttribute", "UnicodeAttribute", "VersionAttribute"]
    assert seen["unmarked"][1:] == [
        "UnicodeAttribute",
        "UnicodeAttribute",
        "VersionAttribute",
        "True",
    ]
    assert seen["marked"][1:] == ["UnicodeAttribute", "SignedAttribute", "VersionAttribute", "True"]


# ---------------------------------------------------------------------------------------------
# The list and the docs (no download needed)


def test_docs_table_is_generated_from_the_list() -> None:
    expected = load_expected()
    rendered = render_table(expected)
    in_docs = table_in_docs(MODELS_DOC.read_text(encoding="utf-8"))
    assert in_docs == rendered, (
        "docs/models.md's 'Differences from PynamoDB' table is out of date; replace it with:\n"
        + rendered
    )


def test_every_listed_difference_has_a_documented_reason() -> None:
    expected = load_expected()
    reasons = expected["reasons"]
    for entry in expected["differences"]:
        assert entry["reason"] in reasons, entry
        assert set(entry["modes"]) <= set(ENCRYPTED_MODES), entry
        assert entry["test"].startswith("tests/test_"), entry
    used = {entry["reason"] for entry in expected["differences"]}
    assert used == set(reasons), f"reasons no difference uses: {set(reasons) - used}"
    for reason in reasons.values():
        page, _, anchor = reason["docs"].partition("#")
        text = (DOCS / page).read_text(encoding="utf-8")
        if anchor:
            headings = {
                line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")
            }
            slugs = {_slug(h) for h in headings}
            assert anchor in slugs, f"{reason['docs']}: no such heading"
    tests = [e["test"] for e in expected["differences"]]
    assert len(tests) == len(set(tests)), "a test is listed twice"
    assert json.loads((HERE / "pynamodb_differences.json").read_text())["pynamodb"] == "6.1.0"


def _slug(heading: str) -> str:
    # mkdocs' default slugs: lower case, punctuation dropped, spaces to hyphens.
    kept = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return "-".join(kept.split())


def test_compare_reports_new_gone_and_changed_differences() -> None:
    from _pynamodb_suite import Difference

    expected = {
        "reasons": {"r": {}},
        "differences": [
            {"test": "tests/test_a.py::still", "modes": {"marked": "failed"}, "reason": "r"},
            {"test": "tests/test_a.py::fixed", "modes": {"unmarked": "failed"}, "reason": "r"},
            {"test": "tests/test_b.py::not_run", "modes": {"marked": "failed"}, "reason": "r"},
            {"test": "tests/test_a.py::worse", "modes": {"marked": "failed"}, "reason": "r"},
        ],
    }
    found = [
        Difference("tests/test_a.py::still", "marked", "passed", "failed"),
        Difference("tests/test_a.py::worse", "marked", "passed", "error"),
        Difference("tests/test_a.py::fresh", "unmarked", "passed", "failed", "boom"),
    ]
    result = compare(found, expected, ["tests/test_a.py"])
    assert [(d.test, d.mode) for d in result.new] == [("tests/test_a.py::fresh", "unmarked")]
    assert result.gone == [("tests/test_a.py::fixed", "unmarked")]  # test_b.py did not run
    assert [(d.test, was) for d, was in result.changed] == [("tests/test_a.py::worse", "failed")]


def test_differences_compare_each_encrypted_mode_with_the_plain_run() -> None:
    def run(mode: str, outcomes: dict[str, str]) -> RunResult:
        return RunResult(mode, outcomes, {}, {}, 0.0, "")

    results = {
        "plain": run("plain", {"t::a": "passed", "t::b": "failed", "t::c": "passed"}),
        "unmarked": run("unmarked", {"t::a": "passed", "t::b": "failed", "t::c": "failed"}),
        "marked": run("marked", {"t::a": "error", "t::b": "passed", "t::c": "failed"}),
    }
    found = {(d.test, d.mode, d.plain, d.outcome) for d in differences(results)}
    assert found == {
        ("t::c", "unmarked", "passed", "failed"),
        ("t::a", "marked", "passed", "error"),
        ("t::b", "marked", "failed", "passed"),
        ("t::c", "marked", "passed", "failed"),
    }
