"""The re-encryption job against real DynamoDB-API servers (DynamoDB Local and moto).

Faults are injected in the *client* (botocore ``before-send`` hooks that answer instead of
the server), never by mocking the server: every successful request really goes to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    MaterialsProvider,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core import MATERIAL_DESCRIPTION_ATTRIBUTE, SIGNATURE_ATTRIBUTE
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    ReencryptJob,
    ReencryptOptions,
    ReencryptProgress,
    UnsignedItemPolicy,
    reencrypt_table,
)

N_ITEMS = 120
#: The job writes an item with UpdateItem (PutItem only past DynamoDB's expression limit).
JOB_WRITES = ("PutItem", "UpdateItem")

# ------------------------------------------------------------------------------------------
# Helpers (also imported by the other test_reencrypt_* modules)


def static_provider() -> StaticMaterialsProvider:
    """A static provider with fresh random keys."""
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES"),
        signing_key=SymmetricKey.generate("HmacSHA256"),
    )


def wrapped_provider() -> WrappedMaterialsProvider:
    """A wrapped provider with a fresh AES wrapping key and HMAC key."""
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"),
        signing_key=SymmetricKey.generate("HmacSHA256"),
    )


def encryptor(
    table: str,
    provider: MaterialsProvider,
    actions: AttributeActions | None = None,
) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=actions or AttributeActions(),
        materials_provider=provider,
    )


def plaintext_item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"p{i % 7}"},
        "sk": {"N": str(i)},
        "secret": {"S": f"secret number {i}"},
        "amount": {"N": str(i * 3)},
        "tags": {"SS": [f"t{i}", "common"]},
        "nested": {"M": {"a": {"L": [{"N": "1"}, {"BOOL": True}]}, "b": {"NULL": True}}},
    }


def key_of(item: Mapping[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["N"]


def put_all(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def scan_all(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def canonical(item: Mapping[str, Any]) -> dict[str, Any]:
    """A comparable form of a plaintext item (sets unordered, numbers as the server keeps
    them)."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        ((tag, inner),) = value.items()
        out[name] = (tag, sorted(inner)) if tag in ("SS", "NS", "BS") else (tag, inner)
    return out


def assert_all_readable(
    client: Any,
    table: str,
    reader: ItemEncryptor,
    expected: Mapping[tuple[str, str], Mapping[str, Any]],
) -> None:
    """Every stored item verifies and decrypts with ``reader`` to its expected plaintext."""
    stored = scan_all(client, table)
    assert len(stored) == len(expected)
    for item in stored:
        assert SIGNATURE_ATTRIBUTE in item
        plain = reader.decrypt(item)
        assert canonical(plain) == canonical(expected[key_of(item)])


def seed_table(
    client: Any, table: str, writer: ItemEncryptor, count: int = N_ITEMS
) -> dict[tuple[str, str], dict[str, Any]]:
    plain = [plaintext_item(i) for i in range(count)]
    put_all(client, table, [writer.encrypt(item) for item in plain])
    return {key_of(item): item for item in plain}


class Answer:
    """A botocore ``before-send`` hook that answers some requests itself.

    ``decide(operation, body) -> (status, error_code) | None``; None lets the request through
    to the server.
    """

    def __init__(self, decide: Callable[[str, dict[str, Any]], tuple[int, str] | None]) -> None:
        self.decide = decide
        self.answered = 0

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        operation = target.rsplit(".", 1)[-1]
        body = json.loads(request.body or b"{}")
        verdict = self.decide(operation, body)
        if verdict is None:
            return None
        status, code = verdict
        self.answered += 1
        payload = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
        ).encode()
        return AWSResponse(
            request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(payload)
        )


class _Raw:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._payload


@pytest.fixture
def inject(dynamodb_client: Any) -> Iterator[Callable[[str, Answer], None]]:
    """``inject(event, hook)``: register a botocore hook on the test's client, and remove it
    afterwards (botocore clients share their handler table, so a leftover hook would leak
    into later tests)."""
    registered: list[tuple[str, Answer]] = []

    def register(event: str, hook: Answer) -> None:
        dynamodb_client.meta.events.register(event, hook)
        registered.append((event, hook))

    yield register
    for event, hook in registered:
        dynamodb_client.meta.events.unregister(event, hook)


@pytest.fixture
def range_table(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


def job(
    table: str,
    old: MaterialsProvider | None,
    new: MaterialsProvider | None,
    *,
    old_actions: AttributeActions | None = None,
    new_actions: AttributeActions | None = None,
    policy: UnsignedItemPolicy = UnsignedItemPolicy.REJECT,
) -> ReencryptJob:
    return ReencryptJob(
        table_name=table,
        old=CryptoConfig(
            materials_provider=old, attribute_actions=old_actions or AttributeActions()
        ),
        new=CryptoConfig(
            materials_provider=new, attribute_actions=new_actions or AttributeActions()
        ),
        plaintext_policy=policy,
    )


# ------------------------------------------------------------------------------------------
# Correctness, idempotence, dry run


def test_static_key_rotation_rewrites_every_item_and_second_run_has_nothing_to_do(
    dynamodb_client: Any, range_table: str
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old))
    progress: list[ReencryptProgress] = []

    report = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(page_size=25, progress=progress.append),
    )

    assert report.ok
    assert (report.scanned, report.reencrypted, report.already_current) == (N_ITEMS, N_ITEMS, 0)
    assert report.failures == ()
    assert progress
    assert progress[-1].scanned == N_ITEMS
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)
    with pytest.raises(SignatureVerificationError):
        encryptor(range_table, old).decrypt(scan_all(dynamodb_client, range_table)[0])

    again = reencrypt_table(dynamodb_client, job(range_table, old, new))
    assert (again.scanned, again.reencrypted, again.already_current) == (N_ITEMS, 0, N_ITEMS)
    assert again.ok


def test_dry_run_reports_changes_and_writes_nothing(dynamodb_client: Any, range_table: str) -> None:
    old, new = static_provider(), static_provider()
    seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=40)
    before = scan_all(dynamodb_client, range_table)

    report = reencrypt_table(
        dynamodb_client, job(range_table, old, new), ReencryptOptions(dry_run=True)
    )

    assert report.dry_run
    assert (report.scanned, report.reencrypted, report.failed) == (40, 40, 0)
    after = scan_all(dynamodb_client, range_table)
    assert sorted(map(repr, before)) == sorted(map(repr, after))


def test_wrapped_key_replacement_with_parallel_segments(
    dynamodb_client: Any, range_table: str
) -> None:
    old, new = wrapped_provider(), wrapped_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old))

    report = reencrypt_table(
        dynamodb_client, job(range_table, old, new), ReencryptOptions(segments=4, page_size=10)
    )

    assert report.ok
    assert (report.scanned, report.reencrypted) == (N_ITEMS, N_ITEMS)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_plain_attribute_becomes_encrypted(dynamodb_client: Any, range_table: str) -> None:
    provider = static_provider()
    old_actions = AttributeActions(
        attribute_actions={"secret": CryptoAction.SIGN_ONLY, "tags": CryptoAction.DO_NOTHING}
    )
    new_actions = AttributeActions(attribute_actions={"tags": CryptoAction.DO_NOTHING})
    expected = seed_table(
        dynamodb_client, range_table, encryptor(range_table, provider, old_actions), count=30
    )
    assert all(
        "S" in item["secret"] for item in scan_all(dynamodb_client, range_table)
    )  # stored in the clear before

    report = reencrypt_table(
        dynamodb_client,
        job(range_table, provider, provider, old_actions=old_actions, new_actions=new_actions),
    )

    assert report.ok
    assert report.reencrypted == 30
    stored = scan_all(dynamodb_client, range_table)
    assert all("B" in item["secret"] for item in stored)
    assert all("SS" in item["tags"] for item in stored)
    assert_all_readable(
        dynamodb_client, range_table, encryptor(range_table, provider, new_actions), expected
    )
    again = reencrypt_table(
        dynamodb_client,
        job(range_table, provider, provider, old_actions=old_actions, new_actions=new_actions),
    )
    assert (again.reencrypted, again.already_current) == (0, 30)


@pytest.mark.parametrize("policy", list(UnsignedItemPolicy))
def test_plaintext_items_follow_the_policy(
    dynamodb_client: Any, range_table: str, policy: UnsignedItemPolicy
) -> None:
    provider = static_provider()
    plain = [plaintext_item(i) for i in range(20)]
    put_all(dynamodb_client, range_table, plain)

    report = reencrypt_table(dynamodb_client, job(range_table, None, provider, policy=policy))

    assert report.scanned == 20
    if policy is UnsignedItemPolicy.ADOPT:
        assert (report.reencrypted, report.failed) == (20, 0)
        assert_all_readable(
            dynamodb_client,
            range_table,
            encryptor(range_table, provider),
            {key_of(i): i for i in plain},
        )
        again = reencrypt_table(dynamodb_client, job(range_table, None, provider, policy=policy))
        assert (again.reencrypted, again.already_current) == (0, 20)
    elif policy is UnsignedItemPolicy.SKIP:
        assert (report.skipped, report.reencrypted, report.failed) == (20, 0, 0)
        assert all(SIGNATURE_ATTRIBUTE not in i for i in scan_all(dynamodb_client, range_table))
    else:
        assert (report.failed, report.reencrypted) == (20, 0)
        assert not report.ok
        assert {f.error for f in report.failures} == {"PlaintextItemError"}
        assert sorted((f.key["pk"]["S"], f.key["sk"]["N"]) for f in report.failures) == sorted(
            key_of(i) for i in plain
        )


# ------------------------------------------------------------------------------------------
# Bad input: wrong old key, tampered items


def test_wrong_key_and_tampered_items_are_reported_and_left_untouched(
    dynamodb_client: Any, range_table: str
) -> None:
    old, new, stranger = static_provider(), static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=30)
    # Two items written with a key the job does not know...
    foreign = [plaintext_item(i) for i in (100, 101)]
    put_all(
        dynamodb_client, range_table, [encryptor(range_table, stranger).encrypt(i) for i in foreign]
    )
    # ...and one item whose signed attribute was changed behind the library's back.
    victim = encryptor(range_table, old).encrypt(plaintext_item(102))
    victim["amount"] = {"B": victim["amount"]["B"][:-16] + bytes(16)}
    dynamodb_client.put_item(TableName=range_table, Item=victim)
    bad_keys = {key_of(i) for i in foreign} | {key_of(victim)}
    untouched = {
        key_of(i): i for i in scan_all(dynamodb_client, range_table) if key_of(i) in bad_keys
    }

    report = reencrypt_table(dynamodb_client, job(range_table, old, new))

    assert (report.scanned, report.reencrypted, report.failed) == (33, 30, 3)
    assert {(f.key["pk"]["S"], f.key["sk"]["N"]) for f in report.failures} == bad_keys
    assert {f.error for f in report.failures} == {"SignatureVerificationError"}
    for failure in report.failures:
        assert "secret number" not in failure.reason
    reader = encryptor(range_table, new)
    for item in scan_all(dynamodb_client, range_table):
        if key_of(item) in bad_keys:
            assert item == untouched[key_of(item)]
        else:
            assert canonical(reader.decrypt(item)) == canonical(expected[key_of(item)])


# ------------------------------------------------------------------------------------------
# Concurrency: a concurrent application write is never overwritten


@pytest.mark.parametrize("app_uses", ["old", "new"])
def test_concurrent_application_write_wins_and_is_then_migrated(
    dynamodb_client: Any,
    inject: Callable[[str, Answer], None],
    ddb_endpoint: str,
    range_table: str,
    app_uses: str,
) -> None:
    import boto3

    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=10)
    app_client = boto3.client("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    app_writer = encryptor(range_table, old if app_uses == "old" else new)
    target = ("p3", "3")
    changed = plaintext_item(3)
    changed["secret"] = {"S": "written by the application during the job"}
    interfered: list[str] = []

    def interfere(operation: str, body: dict[str, Any]) -> None:
        if operation in JOB_WRITES and not interfered:
            item = body.get("Item") or body["Key"]
            if (item["pk"]["S"], item["sk"]["N"]) == target:
                interfered.append("done")
                # The application writes between the job's read and the job's write.
                app_client.put_item(TableName=range_table, Item=app_writer.encrypt(changed))
        return

    inject("before-send.dynamodb", Answer(interfere))

    report = reencrypt_table(dynamodb_client, job(range_table, old, new))

    assert interfered
    assert report.ok
    assert report.conflicts_retried == 1
    expected[target] = changed
    if app_uses == "old":
        assert (report.reencrypted, report.already_current) == (10, 0)
    else:
        assert (report.reencrypted, report.already_current) == (9, 1)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_item_deleted_during_the_job_is_not_resurrected(
    dynamodb_client: Any, inject: Callable[[str, Answer], None], range_table: str
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=10)
    target = ("p2", "2")
    deleted: list[bool] = []

    def delete_first(operation: str, body: dict[str, Any]) -> None:
        item = body.get("Item") or body.get("Key", {})
        if operation in JOB_WRITES and not deleted and (item["pk"]["S"], item["sk"]["N"]) == target:
            deleted.append(True)
            dynamodb_client.delete_item(
                TableName=range_table, Key={"pk": {"S": "p2"}, "sk": {"N": "2"}}
            )
        return

    inject("before-send.dynamodb", Answer(delete_first))
    report = reencrypt_table(dynamodb_client, job(range_table, old, new))

    assert (report.reencrypted, report.skipped, report.failed) == (9, 1, 0)
    del expected[target]
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_plaintext_item_changed_during_adoption_keeps_the_new_value(
    dynamodb_client: Any, inject: Callable[[str, Answer], None], range_table: str
) -> None:
    provider = static_provider()
    plain = [plaintext_item(i) for i in range(6)]
    put_all(dynamodb_client, range_table, plain)
    changed = plaintext_item(4)
    changed["amount"] = {"N": "999"}
    done: list[bool] = []

    def change(operation: str, body: dict[str, Any]) -> None:
        item = body.get("Item") or body.get("Key", {})
        if (
            operation in JOB_WRITES
            and not done
            and (item["pk"]["S"], item["sk"]["N"]) == key_of(changed)
        ):
            done.append(True)
            dynamodb_client.put_item(TableName=range_table, Item=changed)
        return

    inject("before-send.dynamodb", Answer(change))
    report = reencrypt_table(
        dynamodb_client, job(range_table, None, provider, policy=UnsignedItemPolicy.ADOPT)
    )

    assert report.ok
    assert (report.reencrypted, report.conflicts_retried) == (6, 1)
    expected = {key_of(i): i for i in plain}
    expected[key_of(changed)] = changed
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, provider), expected)


# ------------------------------------------------------------------------------------------
# Faults: throttling, server errors on writes and mid-scan


def test_throttling_and_server_errors_are_retried_or_reported_per_item(
    dynamodb_client: Any, inject: Callable[[str, Answer], None], range_table: str
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=30)
    throttled: dict[tuple[str, str], int] = {}
    broken = {("p1", "8"), ("p5", "12")}  # always fail with a server error

    def faults(operation: str, body: dict[str, Any]) -> tuple[int, str] | None:
        if operation not in JOB_WRITES:
            return None
        item = body.get("Item") or body["Key"]
        key = (item["pk"]["S"], item["sk"]["N"])
        if key in broken:
            return 500, "InternalServerError"
        if key[1] in ("3", "4", "5") and throttled.get(key, 0) < 2:
            throttled[key] = throttled.get(key, 0) + 1
            return 400, "ProvisionedThroughputExceededException"
        return None

    inject("before-send.dynamodb", Answer(faults))
    report = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(backoff_seconds=0.001, max_transient_retries=3),
    )

    assert (report.reencrypted, report.failed) == (28, 2)
    assert {(f.key["pk"]["S"], f.key["sk"]["N"]) for f in report.failures} == broken
    assert {f.error for f in report.failures} == {"InternalServerError"}
    assert all(v == 2 for v in throttled.values())
    reader_new, reader_old = encryptor(range_table, new), encryptor(range_table, old)
    for item in scan_all(dynamodb_client, range_table):
        reader = reader_old if key_of(item) in broken else reader_new
        assert canonical(reader.decrypt(item)) == canonical(expected[key_of(item)])


def test_server_error_mid_scan_is_retried_and_nothing_is_lost(
    dynamodb_client: Any, inject: Callable[[str, Answer], None], range_table: str
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=60)
    scans: list[int] = []

    def fail_third_scan(operation: str, body: dict[str, Any]) -> tuple[int, str] | None:
        if operation == "Scan":
            scans.append(1)
            if len(scans) in (3, 4, 5):  # the 3rd page fails three times in a row
                return 500, "InternalServerError"
        return None

    inject("before-send.dynamodb.Scan", Answer(fail_third_scan))
    report = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(page_size=10, backoff_seconds=0.001, max_transient_retries=5),
    )

    assert report.failures == ()
    assert report.ok
    assert (report.scanned, report.reencrypted) == (60, 60)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_lasting_scan_failure_keeps_the_checkpoint_and_a_resume_finishes(
    dynamodb_client: Any, inject: Callable[[str, Answer], None], range_table: str, tmp_path: Path
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=50)
    checkpoint = tmp_path / "job.checkpoint"
    scans: list[int] = []

    def fail_after_two_pages(operation: str, body: dict[str, Any]) -> tuple[int, str] | None:
        if operation == "Scan":
            scans.append(1)
            if len(scans) > 2:
                return 503, "ServiceUnavailable"
        return None

    hook = Answer(fail_after_two_pages)
    inject("before-send.dynamodb.Scan", hook)
    first = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(
            page_size=10, checkpoint_path=checkpoint, backoff_seconds=0.001, max_transient_retries=1
        ),
    )
    assert not first.complete
    assert not first.ok
    assert [s.error for s in first.segment_failures] == ["ServiceUnavailable"]
    assert first.reencrypted == 20
    assert checkpoint.exists()
    hook.decide = lambda operation, body: None

    second = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(page_size=10, checkpoint_path=checkpoint),
    )
    assert second.resumed
    assert second.ok
    assert (second.scanned, second.reencrypted) == (30, 30)  # only what was left
    assert not checkpoint.exists()
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


# ------------------------------------------------------------------------------------------
# Checkpoint and resume (in process); the kill -9 variant is in test_reencrypt_cli.py


@pytest.mark.parametrize("segments", [1, 3])
def test_interrupted_job_resumes_from_its_checkpoint(
    dynamodb_client: Any, range_table: str, tmp_path: Path, segments: int
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=90)
    checkpoint = tmp_path / "job.checkpoint"
    pages: list[int] = []

    def interrupt(progress: ReencryptProgress) -> None:
        pages.append(progress.scanned)
        if len(pages) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt_table(
            dynamodb_client,
            job(range_table, old, new),
            ReencryptOptions(
                segments=segments, page_size=10, checkpoint_path=checkpoint, progress=interrupt
            ),
        )
    saved = json.loads(checkpoint.read_text())
    assert len(saved["segments"]) == segments
    assert sum(s["pages"] for s in saved["segments"]) >= 1

    resumed = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(segments=segments, page_size=10, checkpoint_path=checkpoint),
    )
    assert resumed.resumed
    assert resumed.ok
    assert resumed.scanned < 90
    assert resumed.scanned == resumed.reencrypted + resumed.already_current
    assert not checkpoint.exists()
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_rate_and_capacity_caps_are_accepted(
    dynamodb_client: Any, range_table: str, ddb_backend: str
) -> None:
    old, new = static_provider(), static_provider()
    expected = seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=20)

    report = reencrypt_table(
        dynamodb_client,
        job(range_table, old, new),
        ReencryptOptions(max_items_per_second=2000, max_capacity_per_second=5000, segments=2),
    )

    assert report.ok
    assert report.reencrypted == 20
    # Every write and every scan page reported its capacity (one WCU per small item; moto
    # reports 0.5 for an UpdateItem, the job's write).
    assert report.consumed_capacity >= (20 if ddb_backend == "ddblocal" else 10)
    assert_all_readable(dynamodb_client, range_table, encryptor(range_table, new), expected)


def test_material_description_change_alone_marks_items_stale(
    dynamodb_client: Any, range_table: str
) -> None:
    """Same keys, new custom description entry: the default check sees the difference."""
    aes, hmac = SymmetricKey.generate("AES"), SymmetricKey.generate("HmacSHA256")
    old = StaticMaterialsProvider(encryption_key=aes, signing_key=hmac)
    new = StaticMaterialsProvider(
        encryption_key=aes, signing_key=hmac, material_description={"key-generation": "2"}
    )
    seed_table(dynamodb_client, range_table, encryptor(range_table, old), count=10)

    report = reencrypt_table(dynamodb_client, job(range_table, old, new))
    assert report.reencrypted == 10
    assert all(
        b"key-generation" in item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"]
        for item in scan_all(dynamodb_client, range_table)
    )
    assert reencrypt_table(dynamodb_client, job(range_table, old, new)).already_current == 10


def test_unknown_table_is_a_configuration_error(dynamodb_client: Any, table_name: str) -> None:
    from pynamodb_encryption import ConfigurationError

    with pytest.raises(ConfigurationError) as info:
        reencrypt_table(dynamodb_client, job(table_name, static_provider(), static_provider()))
    assert info.value.table == table_name
