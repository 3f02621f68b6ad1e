"""Logs, metrics and traces: the machinery behind the one-line hooks in the other modules.

Everything here names tables, attributes, models, key ids, material names and versions; never
a value, a plaintext or a key byte.

- **Logging**: a ``pynamodb_encryption`` logger tree (one child per area, see `LOGGERS`), with
  a ``NullHandler`` on the root of the tree (the application chooses where logs go).
- **OpenTelemetry**: spans and counters through ``opentelemetry-api`` when it is installed (the
  ``otel`` extra). It is imported on first use, never on the library's import path; without it
  (or with ``PYNAMODB_ENCRYPTION_OTEL=off``) every hook is a plain function call. Until the
  application installs an SDK tracer or meter provider, the hooks skip OpenTelemetry too
  (looking again at most once a second), so an unconfigured API costs nothing either.
- **botocore**: at DEBUG, botocore logs every response body, and the bodies of KMS
  ``GenerateDataKey`` / ``Decrypt`` hold a plaintext data key. `kms_call` wraps the calls this
  library makes, and a filter on botocore's loggers redacts those records while one runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import PynamoDBEncryptionError

if TYPE_CHECKING:
    from .core import ItemEncryptorProtocol

__all__ = [
    "LOGGERS",
    "METRICS",
    "OTEL_ENV",
    "SPANS",
    "cache_lookup",
    "decrypt",
    "encrypt",
    "get_logger",
    "kms_call",
    "log_provider_resolved",
    "plaintext_read",
    "reset",
    "traced",
    "use",
    "version_loaded",
]

ROOT = "pynamodb_encryption"
#: The logger tree (children of ``pynamodb_encryption``) and what each one reports.
LOGGERS: Mapping[str, str] = {
    f"{ROOT}.items": "WARNING: unsigned items read under ALLOW_PLAINTEXT_READ, items that fail "
    "verification or decryption",
    f"{ROOT}.orm": "INFO: a model's materials provider resolved",
    f"{ROOT}.providers.kms": "DEBUG: KMS calls and decrypt-cache decisions",
    f"{ROOT}.providers.most_recent": "INFO: material versions loaded from the meta store; "
    "DEBUG: version cache decisions",
    f"{ROOT}.maintenance.reencrypt": "INFO: one line per finished segment and a final summary",
    f"{ROOT}.integrations": "INFO: providers built from framework settings",
}
#: Environment variable: ``off`` (or ``0``/``false``) disables OpenTelemetry even if installed.
OTEL_ENV = "PYNAMODB_ENCRYPTION_OTEL"
#: Span names.
SPANS = (
    f"{ROOT}.encrypt",
    f"{ROOT}.decrypt",
    f"{ROOT}.kms",
    f"{ROOT}.meta_store.max_version",
    f"{ROOT}.meta_store.load",
)
#: Counter names (all with unit ``1``) and their attributes.
METRICS: Mapping[str, str] = {
    f"{ROOT}.items.encrypted": "table",
    f"{ROOT}.items.decrypted": "table",
    f"{ROOT}.items.verified": "table",
    f"{ROOT}.items.failed": "table, operation (encrypt|decrypt), reason (error class)",
    f"{ROOT}.items.plaintext_read": "table",
    f"{ROOT}.kms.calls": "operation (GenerateDataKey|Decrypt), outcome (ok|error code)",
    f"{ROOT}.cache.hits": "cache (kms_decrypt|most_recent)",
    f"{ROOT}.cache.misses": "cache (kms_decrypt|most_recent)",
}

logging.getLogger(ROOT).addHandler(logging.NullHandler())

_items_log = logging.getLogger(f"{ROOT}.items")
_orm_log = logging.getLogger(f"{ROOT}.orm")
_kms_log = logging.getLogger(f"{ROOT}.providers.kms")
_most_recent_log = logging.getLogger(f"{ROOT}.providers.most_recent")
_CACHE_LOGS = {"kms_decrypt": _kms_log, "most_recent": _most_recent_log}


def get_logger(area: str) -> logging.Logger:
    """The logger ``pynamodb_encryption.<area>`` (one of `LOGGERS`)."""
    return logging.getLogger(f"{ROOT}.{area}")


# ---------------------------------------------------------------------------------------------
# OpenTelemetry, resolved on first use


class _Otel:
    __slots__ = (
        "cache_hits",
        "cache_misses",
        "decrypted",
        "encrypted",
        "failed",
        "kms_calls",
        "plaintext_read",
        "tracer",
        "verified",
    )

    def __init__(self, tracer: Any, meter: Any) -> None:
        self.tracer = tracer

        def counter(name: str, description: str) -> Any:
            return meter.create_counter(f"{ROOT}.{name}", unit="1", description=description)

        self.encrypted = counter("items.encrypted", "items encrypted and signed")
        self.decrypted = counter("items.decrypted", "items decrypted")
        self.verified = counter("items.verified", "items whose signature verified")
        self.failed = counter("items.failed", "items that failed to encrypt or decrypt")
        self.plaintext_read = counter(
            "items.plaintext_read", "unsigned items read under ALLOW_PLAINTEXT_READ"
        )
        self.kms_calls = counter("kms.calls", "AWS KMS requests made by this library")
        self.cache_hits = counter("cache.hits", "key cache hits")
        self.cache_misses = counter("cache.misses", "key cache misses")


_UNRESOLVED: Any = object()
#: The API is installed but no SDK provider is set yet: look again after this many seconds.
#: Until then the hooks skip OpenTelemetry (its proxies would cost ~5 us per item for nothing).
_RECHECK_SECONDS = 1.0
_otel_state: Any = _UNRESOLVED
_recheck_at = 0.0
_otel_lock = threading.Lock()


def _configured(provider: Any) -> bool:
    # The API hands out proxy (or no-op) providers until the application installs an SDK one.
    name = type(provider).__name__
    return not (name.startswith("_Proxy") or name.startswith("Proxy") or name.startswith("NoOp"))


def _resolve_otel() -> _Otel | None:
    global _otel_state, _recheck_at
    with _otel_lock:
        if _otel_state is _UNRESOLVED or (
            _otel_state is None and _recheck_at and time.monotonic() >= _recheck_at
        ):
            state: _Otel | None = None
            _recheck_at = 0.0
            if os.environ.get(OTEL_ENV, "").strip().lower() not in ("off", "0", "false", "no"):
                try:
                    from opentelemetry import metrics, trace
                except ImportError:
                    pass
                else:
                    if _configured(trace.get_tracer_provider()) or _configured(
                        metrics.get_meter_provider()
                    ):
                        version = _version()
                        state = _Otel(
                            trace.get_tracer(ROOT, version), metrics.get_meter(ROOT, version)
                        )
                    else:
                        _recheck_at = time.monotonic() + _RECHECK_SECONDS
            _otel_state = state
        resolved: _Otel | None = _otel_state
        return resolved


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pynamodb-encryption")
    except PackageNotFoundError:  # run from a source tree without installing
        return "0+unknown"


def _otel() -> _Otel | None:
    state = _otel_state
    if state is None:
        if _recheck_at and time.monotonic() >= _recheck_at:
            return _resolve_otel()
        return None
    if state is _UNRESOLVED:
        return _resolve_otel()
    resolved: _Otel = state
    return resolved


def use(tracer: Any, meter: Any) -> None:
    """Report to this tracer and meter instead of the global ones (for tests)."""
    global _otel_state
    with _otel_lock:
        _otel_state = _Otel(tracer, meter)


def reset() -> None:
    """Forget the OpenTelemetry tracer and meter (resolved again on next use) and the
    plaintext-read counts. For tests, or after ``PYNAMODB_ENCRYPTION_OTEL`` changed."""
    global _otel_state, _recheck_at
    with _otel_lock:
        _otel_state = _UNRESOLVED
        _recheck_at = 0.0
    with _plaintext_lock:
        _plaintext.clear()


# ---------------------------------------------------------------------------------------------
# Items


def _failed(otel: _Otel | None, table: str, operation: str, exc: BaseException) -> None:
    reason = type(exc).__name__
    if operation == "decrypt":
        # The message names the table and attribute only (errors never carry values).
        _items_log.warning(
            "item from table %r failed verification or decryption: %s: %s",
            table,
            reason,
            getattr(exc, "message", ""),
        )
    if otel is not None:
        otel.failed.add(1, {"table": table, "operation": operation, "reason": reason})


def encrypt(encryptor: ItemEncryptorProtocol, item: Mapping[str, Any]) -> dict[str, Any]:
    """``encryptor.encrypt(item)``, counted and traced."""
    otel = _otel()
    if otel is None:
        return encryptor.encrypt(item)
    table = encryptor.table_name
    attributes = {"table": table}
    with otel.tracer.start_as_current_span(f"{ROOT}.encrypt", attributes=attributes):
        try:
            result = encryptor.encrypt(item)
        except PynamoDBEncryptionError as exc:
            _failed(otel, table, "encrypt", exc)
            raise
    otel.encrypted.add(1, attributes)
    return result


def decrypt(encryptor: ItemEncryptorProtocol, item: Mapping[str, Any]) -> dict[str, Any]:
    """``encryptor.decrypt(item)``, logged (WARNING on failure), counted and traced."""
    otel = _otel()
    if otel is None:
        try:
            return encryptor.decrypt(item)
        except PynamoDBEncryptionError as exc:
            _failed(None, encryptor.table_name, "decrypt", exc)
            raise
    table = encryptor.table_name
    attributes = {"table": table}
    with otel.tracer.start_as_current_span(f"{ROOT}.decrypt", attributes=attributes):
        try:
            result = encryptor.decrypt(item)
        except PynamoDBEncryptionError as exc:
            _failed(otel, table, "decrypt", exc)
            raise
    otel.verified.add(1, attributes)
    otel.decrypted.add(1, attributes)
    return result


_PLAINTEXT_WARN_EVERY = 60.0
_clock = time.monotonic  # replaced in tests
# table -> [total, since last warning, monotonic time of last warning]
_plaintext: dict[str, list[float]] = {}
_plaintext_lock = threading.Lock()


def plaintext_read(table: str, model: str) -> None:
    """An unsigned item was read under ``ALLOW_PLAINTEXT_READ`` (counted, WARNING logged).

    One WARNING for the first such read of a table, then at most one a minute with the counts,
    so an adoption's progress shows in the logs without one line per item.
    """
    now = _clock()
    with _plaintext_lock:
        entry = _plaintext.setdefault(table, [0, 0, -_PLAINTEXT_WARN_EVERY])
        entry[0] += 1
        entry[1] += 1
        total, since = int(entry[0]), int(entry[1])
        warn = now - entry[2] >= _PLAINTEXT_WARN_EVERY
        if warn:
            entry[1] = 0
            entry[2] = now
    if warn:
        _items_log.warning(
            "read %d unsigned item(s) from table %r (model %s) under ALLOW_PLAINTEXT_READ "
            "(%d in this process): the table still holds plaintext items; re-encrypt it, then "
            "switch to REQUIRE_ENCRYPTED",
            since,
            table,
            model,
            total,
        )
    otel = _otel()
    if otel is not None:
        otel.plaintext_read.add(1, {"table": table})


# ---------------------------------------------------------------------------------------------
# Providers


def _describe_provider(provider: object) -> str:
    # Names and ids only: a provider's repr may be changed by others, so it is not used.
    parts = [type(provider).__name__]
    for attribute in ("key_id", "material_name"):
        value = getattr(provider, attribute, None)
        if isinstance(value, str):
            parts.append(f"{attribute}={value!r}")
    return " ".join(parts)


def log_provider_resolved(model: str, table: str, provider: object) -> None:
    """INFO: a model resolved ``Meta.materials_provider``."""
    _orm_log.info(
        "model %s (table %r) uses materials provider %s",
        model,
        table,
        _describe_provider(provider),
    )


_T = TypeVar("_T")


def traced(
    operation: str, attributes: Mapping[str, Any], func: Callable[..., _T], *args: Any
) -> _T:
    """``func(*args)`` inside a ``pynamodb_encryption.<operation>`` span (a provider's call
    to its key store)."""
    otel = _otel()
    if otel is None:
        return func(*args)
    with otel.tracer.start_as_current_span(f"{ROOT}.{operation}", attributes=attributes):
        return func(*args)


def version_loaded(material_name: str, version: int, *, newest: bool, created: bool) -> None:
    """INFO: the most-recent provider loaded (or created) a version from its meta store."""
    if created:
        what = "created version"
    elif newest:
        what = "loaded the newest version"
    else:
        what = "loaded version"
    _most_recent_log.info("material %r: %s %d from the meta store", material_name, what, version)


def cache_lookup(cache: str, hit: bool, subject: str) -> None:
    """DEBUG: a key cache answered (``cache`` is ``kms_decrypt`` or ``most_recent``)."""
    log = _CACHE_LOGS[cache]
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s cache %s for %s", cache, "hit" if hit else "miss", subject)
    otel = _otel()
    if otel is not None:
        (otel.cache_hits if hit else otel.cache_misses).add(1, {"cache": cache})


# ---------------------------------------------------------------------------------------------
# The re-encryption job

_job_log = logging.getLogger(f"{ROOT}.maintenance.reencrypt")


def segment_done(table: str, segment: int, segments: int, stats: Any) -> None:
    """INFO: a scan segment reached its end (``stats``: the job's running totals)."""
    with stats.lock:
        totals = (stats.scanned, stats.reencrypted, stats.current, stats.skipped, stats.failed)
    _job_log.info(
        "table %r: segment %d/%d done; job totals: scanned %d, rewritten %d, already current "
        "%d, skipped %d, failed %d",
        table,
        segment + 1,
        segments,
        *totals,
    )


def segment_stopped(table: str, segment: int, error: str, reason: str) -> None:
    """WARNING: a scan segment stopped (its checkpoint is kept for a resume)."""
    _job_log.warning("table %r: segment %d stopped: %s: %s", table, segment + 1, error, reason)


def job_summary(report: Any) -> None:
    """INFO (WARNING if anything failed): the job's final counts and whether the table has
    converged, i.e. holds no item left to rewrite as far as this run can tell."""
    pending = report.reencrypted if report.dry_run else 0
    converged = report.complete and report.failed == 0 and report.skipped == 0 and pending == 0
    if converged:
        verdict = "converged: every item is written with the new configuration"
    elif not report.complete:
        verdict = "NOT converged: the scan did not finish (resume with the same checkpoint)"
    elif report.dry_run and pending:
        verdict = f"NOT converged: {pending} item(s) to rewrite"
    else:
        verdict = "NOT converged: failed or skipped items remain"
    level = logging.INFO if report.failed == 0 and report.complete else logging.WARNING
    _job_log.log(
        level,
        "table %r: re-encryption %s in %.1f s: scanned %d, %s %d, already current %d, "
        "skipped %d, failed %d, conflicts retried %d; %s",
        report.table_name,
        "dry run" if report.dry_run else "finished",
        report.elapsed_seconds,
        report.scanned,
        "to rewrite" if report.dry_run else "rewritten",
        report.reencrypted,
        report.already_current,
        report.skipped,
        report.failed,
        report.conflicts_retried,
        verdict,
    )


# ---------------------------------------------------------------------------------------------
# KMS calls and botocore's logs

_in_kms_call: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pynamodb_encryption_kms_call", default=None
)
#: botocore loggers whose DEBUG records carry response bodies (parsers) or request/response
#: dumps (endpoint); their records are redacted while this library's KMS call runs.
BOTOCORE_LOGGERS = ("botocore.parsers", "botocore.endpoint")
_OPERATIONS = {"generate_data_key": "GenerateDataKey", "decrypt": "Decrypt"}


class _RedactKmsResponses(logging.Filter):
    """Rewrites botocore's records logged during a KMS call made by this library."""

    def filter(self, record: logging.LogRecord) -> bool:
        operation = _in_kms_call.get()
        if operation is not None and record.levelno <= logging.DEBUG:
            record.msg = (
                "[redacted by pynamodb_encryption: botocore record during AWS KMS %s, whose "
                "response holds a plaintext data key]"
            )
            record.args = (operation,)
        return True


_redact_filter = _RedactKmsResponses()


def install_botocore_redaction() -> None:
    """Put the redacting filter on botocore's loggers (idempotent; re-added if a logging
    configuration removed it)."""
    for name in BOTOCORE_LOGGERS:
        logger = logging.getLogger(name)
        if _redact_filter not in logger.filters:
            logger.addFilter(_redact_filter)


@contextlib.contextmanager
def kms_call(operation: str, key_id: str, table: str | None) -> Iterator[None]:
    """Around one KMS request made by this library: botocore's DEBUG records are redacted,
    the call is traced and counted (``outcome`` is ``ok`` or the exception's error code)."""
    install_botocore_redaction()
    name = _OPERATIONS.get(operation, operation)
    if _kms_log.isEnabledFor(logging.DEBUG):
        _kms_log.debug("AWS KMS %s with key %r (table %r)", name, key_id, table)
    token = _in_kms_call.set(name)
    otel = _otel()
    try:
        if otel is None:
            yield
        else:
            attributes = {"aws.kms.operation": name, "aws.kms.key_id": key_id}
            if table is not None:
                attributes["table"] = table
            with otel.tracer.start_as_current_span(f"{ROOT}.kms", attributes=attributes):
                try:
                    yield
                except Exception as exc:
                    otel.kms_calls.add(1, {"operation": name, "outcome": _error_code(exc)})
                    raise
            otel.kms_calls.add(1, {"operation": name, "outcome": "ok"})
    finally:
        _in_kms_call.reset(token)


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and isinstance(error.get("Code"), str):
            return str(error["Code"])
    return type(exc).__name__
