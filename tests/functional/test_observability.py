"""Logs, metrics and traces of a realistic session on real servers.

One adoption story: a plaintext table read under ALLOW_PLAINTEXT_READ, rewritten by the
re-encryption job (KMS provider), then read through a most-recent provider; a tampered item.
The logs must tell the story (levels, names, versions, convergence) and hold no value, no
plaintext and no key byte; OpenTelemetry's in-memory exporter must see the spans and counters.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption import (
    AwsKmsMaterialsProvider,
    MetaStore,
    MostRecentProvider,
    PlaintextPolicy,
    SignatureVerificationError,
    _telemetry,
)
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptOptions,
    UnsignedItemPolicy,
    job_for_model,
    reencrypt_table,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

SECRET = "opal-lantern-7731-quiet-harbor"
SECRET_FORMS = (SECRET, base64.b64encode(SECRET.encode()).decode())
# Stored in plaintext before the adoption, so botocore's own DEBUG logs of DynamoDB responses
# show it (as they would without this library): only this library's records are checked for it.
LEGACY = "legacy-card-0000-1111"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, logger: str = "", level: int = logging.DEBUG) -> list[str]:
        return [
            r.getMessage() for r in self.records if r.name.startswith(logger) and r.levelno >= level
        ]


@contextlib.contextmanager
def captured_logs() -> Iterator[_Capture]:
    handler = _Capture()
    loggers = [logging.getLogger(n) for n in ("", "pynamodb_encryption", "botocore", "pynamodb")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def _model(table: str, host: str, provider: Any, policy: PlaintextPolicy) -> Any:
    class Customer(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = provider
            plaintext_policy = policy

        pk = UnicodeAttribute(hash_key=True)
        card = EncryptedAttribute(UnicodeAttribute(null=True))
        status = SignedAttribute(UnicodeAttribute(null=True))

    Customer.Meta.host = host  # type: ignore[attr-defined]
    return Customer


@pytest.fixture
def otel() -> Iterator[tuple[Any, Any]]:
    """An SDK tracer and meter with in-memory exporters, used instead of the global ones."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    _telemetry.use(tracer_provider.get_tracer("test"), meter_provider.get_meter("test"))
    try:
        yield spans, reader
    finally:
        _telemetry.reset()


def _counters(reader: Any) -> dict[tuple[str, tuple[tuple[str, Any], ...]], int]:
    out: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, tuple(sorted(point.attributes.items())))
                    out[key] = out.get(key, 0) + int(point.value)
    return out


def test_adoption_session_logs_and_telemetry(
    dynamodb_client: Any,
    kms_client: Any,
    kms_key_id: str,
    ddb_endpoint: str,
    table_name: str,
    make_table: Any,
    otel: tuple[Any, Any],
) -> None:
    spans, reader = otel
    table = make_table()
    kms = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    data_keys: list[str] = []
    original = kms_client.generate_data_key

    def spy(**kwargs: Any) -> Any:
        response = original(**kwargs)
        data_keys.append(base64.b64encode(response["Plaintext"]).decode())
        data_keys.append(response["Plaintext"].hex())
        return response

    for i in range(3):
        item = {"pk": {"S": f"c{i}"}, "card": {"S": f"{LEGACY}-{i}"}, "status": {"S": "new"}}
        dynamodb_client.put_item(TableName=table, Item=item)

    kms_client.generate_data_key = spy
    try:
        with captured_logs() as logs:
            # 1. Adoption: the model reads the old plaintext items.
            adopting = _model(table, ddb_endpoint, kms, PlaintextPolicy.ALLOW_PLAINTEXT_READ)
            assert adopting.get("c0").card == f"{LEGACY}-0"
            assert {c.pk for c in adopting.scan()} == {"c0", "c1", "c2"}
            adopting("c3", card=f"{SECRET}-3", status="new").save()

            # 2. The job rewrites the rest; a dry run afterwards shows convergence.
            job = job_for_model(
                adopting, old=CryptoConfig(), plaintext_policy=UnsignedItemPolicy.ADOPT
            )
            report = reencrypt_table(dynamodb_client, job, ReencryptOptions(segments=2))
            assert report.ok
            assert report.reencrypted == 3
            dry = reencrypt_table(dynamodb_client, job, ReencryptOptions(dry_run=True))
            assert dry.ok
            assert dry.reencrypted == 0

            # 3. Encrypted-only reads; one item is tampered with.
            done = _model(table, ddb_endpoint, kms, PlaintextPolicy.REQUIRE_ENCRYPTED)
            assert done.get("c1").card == f"{LEGACY}-1"
            dynamodb_client.update_item(
                TableName=table,
                Key={"pk": {"S": "c2"}},
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "forged"}},
            )
            with pytest.raises(SignatureVerificationError):
                done.get("c2")

            # 4. A most-recent provider (its meta store protected by KMS).
            meta_table = f"{table_name}-meta"
            MetaStore.create_table(dynamodb_client, meta_table)
            store = MetaStore(
                table_name=meta_table, materials_provider=kms, dynamodb_client=dynamodb_client
            )
            rotating = MostRecentProvider(meta_store=store, material_name="cards", ttl_seconds=60)
            versioned = _model(
                f"{table}", ddb_endpoint, rotating, PlaintextPolicy.REQUIRE_ENCRYPTED
            )
            versioned("v1", card=SECRET).save()
            versioned("v2", card=SECRET).save()
            assert versioned.get("v1").card == SECRET
            rotating.refresh()
            assert versioned.get("v2").card == SECRET
    finally:
        del kms_client.generate_data_key
        dynamodb_client.delete_table(TableName=f"{table_name}-meta")

    assert data_keys, "the spy saw no data key"
    # Nothing secret anywhere in the logs (message or arguments).
    for record in logs.records:
        text = record.getMessage() + repr(record.args)
        for secret in (*SECRET_FORMS, *data_keys):
            assert secret not in text, f"{record.name}: {text[:200]}"
        if record.name.startswith("pynamodb_encryption"):
            assert LEGACY not in text, f"{record.name}: {text[:200]}"

    warnings = logs.lines("pynamodb_encryption", logging.WARNING)
    assert any("unsigned item" in w and repr(table) in w for w in warnings), warnings
    assert any("SignatureVerificationError" in w and repr(table) in w for w in warnings)
    infos = logs.lines("pynamodb_encryption", logging.INFO)
    assert any("AwsKmsMaterialsProvider" in i and kms_key_id in i for i in infos), infos
    assert any("MostRecentProvider" in i and "'cards'" in i for i in infos)
    assert any("material 'cards'" in i and "version 0" in i for i in infos)
    assert sum("segment" in i and "done" in i for i in infos) == 3  # 2 + 1 segments
    summaries = [i for i in infos if "re-encryption" in i]
    assert "rewritten 3" in summaries[0]
    assert "converged" in summaries[0]
    assert "dry run" in summaries[1]
    assert "to rewrite 0" in summaries[1]
    assert "; converged" in summaries[1]
    debug = logs.lines("pynamodb_encryption.providers", logging.DEBUG)
    assert any("most_recent cache hit" in d for d in debug), debug
    assert any("AWS KMS GenerateDataKey" in d for d in debug)
    redacted = logs.lines("botocore.parsers")
    assert redacted
    assert any("redacted by pynamodb_encryption" in r for r in redacted)

    names = [s.name for s in spans.get_finished_spans()]
    assert "pynamodb_encryption.encrypt" in names
    assert "pynamodb_encryption.decrypt" in names
    assert "pynamodb_encryption.kms" in names
    assert "pynamodb_encryption.meta_store.max_version" in names
    loads = [
        s for s in spans.get_finished_spans() if s.name == "pynamodb_encryption.meta_store.load"
    ]
    assert loads
    assert dict(loads[0].attributes or {}) == {"material_name": "cards", "version": 0}
    failed_span = [
        s
        for s in spans.get_finished_spans()
        if s.name == "pynamodb_encryption.decrypt" and not s.status.is_ok
    ]
    assert failed_span
    assert failed_span[0].attributes["table"] == table

    counters = _counters(reader)

    def count(name: str, **attributes: Any) -> int:
        wanted = set(attributes.items())
        return sum(
            v
            for (n, attrs), v in counters.items()
            if n == f"pynamodb_encryption.{name}" and wanted <= set(attrs)
        )

    assert count("items.plaintext_read", table=table) >= 4  # get + scan of 3
    assert count("items.encrypted", table=table) >= 6  # save, 3 job rewrites, 2 versioned
    assert count("items.decrypted", table=table) >= 3
    assert count("items.verified", table=table) == count("items.decrypted", table=table)
    assert (
        count("items.failed", table=table, operation="decrypt", reason="SignatureVerificationError")
        == 1
    )
    assert count("kms.calls", operation="GenerateDataKey", outcome="ok") == len(data_keys) // 2
    assert count("kms.calls", operation="Decrypt", outcome="ok") >= 1
    assert count("cache.hits", cache="most_recent") >= 1
    assert count("cache.misses", cache="most_recent") >= 1
    # Nothing secret in span attributes either.
    for span in spans.get_finished_spans():
        text = repr(dict(span.attributes or {}))
        assert SECRET not in text
        assert LEGACY not in text
