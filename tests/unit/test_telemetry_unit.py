"""Telemetry without servers: import hygiene, the no-otel path, the botocore filter."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    _telemetry,
)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def _run(code: str, **env: str) -> str:
    environment = dict(os.environ, PYTHONPATH=os.path.abspath(SRC), **env)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _encryptor() -> ItemEncryptor:
    return ItemEncryptor(
        table_name="t",
        partition_key_name="pk",
        attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=StaticMaterialsProvider(
            encryption_key=SymmetricKey.generate("AES", 256),
            signing_key=SymmetricKey.generate("HmacSHA256", 256),
        ),
    )


def test_importing_the_library_does_not_import_opentelemetry() -> None:
    out = _run(
        """
        import sys
        import pynamodb_encryption, pynamodb_encryption.orm, pynamodb_encryption.maintenance
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
        """
    )
    assert out.strip() == "[]"


BLOCKED_OTEL = """
import sys
sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
from pynamodb_encryption import (
    AttributeActions, CryptoAction, ItemEncryptor, StaticMaterialsProvider, SymmetricKey,
    _telemetry,
)
encryptor = ItemEncryptor(
    table_name="t", partition_key_name="pk",
    attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
    materials_provider=StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    ),
)
item = {"pk": {"S": "a"}, "v": {"S": "x"}}
stored = _telemetry.encrypt(encryptor, item)
assert _telemetry.decrypt(encryptor, stored) == item
with _telemetry.kms_call("decrypt", "key", "t"):
    pass
_telemetry.cache_lookup("most_recent", True, "version 1")
_telemetry.plaintext_read("t", "Model")
print(_telemetry._otel_state)
"""


def test_without_opentelemetry_every_hook_is_a_no_op() -> None:
    assert _run(BLOCKED_OTEL).strip() == "None"


def test_the_environment_switch_turns_opentelemetry_off() -> None:
    configured = BLOCKED_OTEL.replace(
        'sys.modules["opentelemetry"] = None  # as if the otel extra were not installed',
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "trace.set_tracer_provider(TracerProvider())",
    )
    assert _run(configured, PYNAMODB_ENCRYPTION_OTEL="off").strip() == "None"
    assert "_Otel" in _run(configured, PYNAMODB_ENCRYPTION_OTEL="")


def test_an_unconfigured_api_is_skipped_until_the_application_configures_it() -> None:
    code = BLOCKED_OTEL.replace(
        'sys.modules["opentelemetry"] = None  # as if the otel extra were not installed', ""
    ).replace(
        "print(_telemetry._otel_state)",
        """print(_telemetry._otel_state)
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
metrics.set_meter_provider(MeterProvider())
_telemetry._otel()
print(_telemetry._otel_state)  # still within the recheck interval
_telemetry._recheck_at = 1.0  # the interval has passed
_telemetry._otel()
print(type(_telemetry._otel_state).__name__)
""",
    )
    assert _run(code, PYNAMODB_ENCRYPTION_OTEL="").split() == ["None", "None", "_Otel"]


def test_decrypt_failure_is_a_warning_naming_the_table_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    encryptor = _encryptor()
    stored = encryptor.encrypt({"pk": {"S": "a"}, "v": {"S": "do-not-log-me"}})
    stored["pk"] = {"S": "b"}
    with (
        caplog.at_level(logging.DEBUG, logger="pynamodb_encryption"),
        pytest.raises(SignatureVerificationError),
    ):
        _telemetry.decrypt(encryptor, stored)
    (record,) = [r for r in caplog.records if r.name == "pynamodb_encryption.items"]
    assert record.levelno == logging.WARNING
    assert "'t'" in record.getMessage()
    assert "SignatureVerificationError" in record.getMessage()
    assert "do-not-log-me" not in record.getMessage() + repr(record.args)


def test_plaintext_reads_warn_once_then_at_most_every_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(_telemetry, "_clock", lambda: clock[0])
    _telemetry.reset()
    with caplog.at_level(logging.WARNING, logger="pynamodb_encryption"):
        for _ in range(5):
            _telemetry.plaintext_read("adopting", "Customer")
        clock[0] += 61
        _telemetry.plaintext_read("adopting", "Customer")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("read 1 unsigned item(s) from table 'adopting'")
    assert messages[1].startswith("read 5 unsigned item(s)")
    assert "(6 in this process)" in messages[1]
    _telemetry.reset()


def _record(logger: str) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.DEBUG, "x", 1, "Response body:\n%r", (b"KEY",), None)


def test_botocore_records_are_redacted_only_during_the_librarys_kms_calls() -> None:
    parsers = logging.getLogger("botocore.parsers")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep(logging.DEBUG)
    parsers.addHandler(handler)
    level = parsers.level
    parsers.setLevel(logging.DEBUG)
    try:
        with _telemetry.kms_call("generate_data_key", "alias/k", "t"):
            parsers.handle(_record("botocore.parsers"))
        parsers.handle(_record("botocore.parsers"))  # the application's own KMS calls
    finally:
        parsers.removeHandler(handler)
        parsers.setLevel(level)
    assert "KEY" not in seen[0]
    assert "GenerateDataKey" in seen[0]
    assert seen[1] == "Response body:\nb'KEY'"


def test_kms_call_counts_errors_by_code(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, dict[str, Any]]] = []

    class Counter:
        def add(self, amount: int, attributes: dict[str, Any]) -> None:
            calls.append((amount, attributes))

    class Tracer:
        def start_as_current_span(self, name: str, attributes: Any) -> Any:
            import contextlib

            return contextlib.nullcontext()

    class Meter:
        def create_counter(self, name: str, unit: str, description: str) -> Counter:
            return Counter()

    _telemetry.use(Tracer(), Meter())
    try:
        error = Exception("refused")
        error.response = {"Error": {"Code": "AccessDeniedException"}}  # type: ignore[attr-defined]
        with pytest.raises(Exception, match="refused"), _telemetry.kms_call("decrypt", "k", None):
            raise error
    finally:
        _telemetry.reset()
    assert calls == [(1, {"operation": "Decrypt", "outcome": "AccessDeniedException"})]
