"""The DB-ESDK branch key store against DynamoDB Local / moto and moto's KMS.

AWS's own key store (``aws-cryptographic-material-providers``, test-only) is the oracle for
the record format: it reads the keys we write and we read the keys it writes.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption.errors import (
    ConfigurationError,
    NoKnownVersionError,
    ProviderError,
    VersionAlreadyExistsError,
)
from pynamodb_encryption.keyrings import KeyStore
from pynamodb_encryption.structured import BranchKeyStore

LOGICAL = "logical-key-store"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def store(
    dynamodb_client: Any, kms_client: Any, kms_key_arn: str, table_name: str
) -> Iterator[KeyStore]:
    key_store = KeyStore(
        table_name=table_name,
        logical_key_store_name=LOGICAL,
        kms_key_id=kms_key_arn,
        dynamodb_client=dynamodb_client,
        kms_client=kms_client,
    )
    arn = key_store.create_key_store()
    assert table_name in arn
    yield key_store
    with contextlib.suppress(ClientError):
        dynamodb_client.delete_table(TableName=table_name)


def items_of(client: Any, table: str, branch_key_id: str) -> dict[str, dict[str, Any]]:
    response = client.query(
        TableName=table,
        KeyConditionExpression="#b = :b",
        ExpressionAttributeNames={"#b": "branch-key-id"},
        ExpressionAttributeValues={":b": {"S": branch_key_id}},
        ConsistentRead=True,
    )
    return {item["type"]["S"]: item for item in response["Items"]}


def test_record_format_create_read_and_rotate(
    store: KeyStore, dynamodb_client: Any, kms_key_arn: str
) -> None:
    assert isinstance(store, BranchKeyStore)
    key_id = store.create_key("tenant-1", encryption_context={"department": "admin"})
    assert key_id == "tenant-1"
    items = items_of(dynamodb_client, store.table_name, key_id)
    assert set(items) == {"branch:ACTIVE", "beacon:ACTIVE", items["branch:ACTIVE"]["version"]["S"]}
    version_type = items["branch:ACTIVE"]["version"]["S"]
    version = version_type.removeprefix("branch:version:")
    assert UUID.match(version)
    for kind, item in items.items():
        expected = {
            "branch-key-id",
            "type",
            "enc",
            "create-time",
            "kms-arn",
            "hierarchy-version",
            "aws-crypto-ec:department",
        } | ({"version"} if kind == "branch:ACTIVE" else set())
        assert set(item) == expected
        assert item["hierarchy-version"] == {"N": "1"}
        assert item["kms-arn"] == {"S": kms_key_arn}
        assert item["aws-crypto-ec:department"] == {"S": "admin"}
        assert TIMESTAMP.match(item["create-time"]["S"])
        assert isinstance(item["enc"]["B"], bytes)
    # One creation, one timestamp, as AWS's key store writes it.
    assert len({item["create-time"]["S"] for item in items.values()}) == 1

    active = store.get_active_branch_key(key_id)
    assert active.branch_key_id == key_id
    assert active.branch_key_version == version
    assert len(active.branch_key) == 32
    assert dict(active.encryption_context) == {"department": "admin"}
    same = store.get_branch_key_version(key_id, version)
    assert same.branch_key == active.branch_key
    beacon = store.get_beacon_key(key_id)
    assert beacon.beacon_key_id == key_id
    assert len(beacon.beacon_key) == 32
    assert beacon.beacon_key != active.branch_key

    new_version = store.version_key(key_id)
    assert UUID.match(new_version)
    assert new_version != version
    rotated = store.get_active_branch_key(key_id)
    assert rotated.branch_key_version == new_version
    assert rotated.branch_key != active.branch_key
    assert dict(rotated.encryption_context) == {"department": "admin"}
    # The old version stays readable, the beacon key does not change.
    assert store.get_branch_key_version(key_id, version).branch_key == active.branch_key
    assert store.get_branch_key_version(key_id, new_version).branch_key == rotated.branch_key
    assert store.get_beacon_key(key_id).beacon_key == beacon.beacon_key
    assert len(items_of(dynamodb_client, store.table_name, key_id)) == 4


def test_kms_encryption_context_is_awss_exactly(
    store: KeyStore, dynamodb_client: Any, kms_client: Any, kms_key_arn: str
) -> None:
    """Each ``enc`` opens under the context the spec defines, built here by hand."""
    key_id = store.create_key()
    assert UUID.match(key_id)
    items = items_of(dynamodb_client, store.table_name, key_id)
    for item in items.values():
        context = {"tablename": LOGICAL}
        for name, value in item.items():
            if name != "enc":
                context[name] = value.get("S", value.get("N"))
        response = kms_client.decrypt(
            CiphertextBlob=item["enc"]["B"], KeyId=kms_key_arn, EncryptionContext=context
        )
        assert len(response["Plaintext"]) == 32
        with pytest.raises(ClientError, match="InvalidCiphertext"):
            kms_client.decrypt(
                CiphertextBlob=item["enc"]["B"],
                KeyId=kms_key_arn,
                EncryptionContext={**context, "tablename": "another-store"},
            )


def test_aws_key_store_reads_our_keys_and_we_read_its(
    store: KeyStore, dynamodb_client: Any, kms_client: Any, kms_key_arn: str
) -> None:
    from aws_cryptographic_material_providers.keystore import KeyStore as AwsKeyStore
    from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig
    from aws_cryptographic_material_providers.keystore.models import (
        CreateKeyInput,
        GetActiveBranchKeyInput,
        GetBeaconKeyInput,
        GetBranchKeyVersionInput,
        KMSConfigurationKmsKeyArn,
        VersionKeyInput,
    )

    aws = AwsKeyStore(
        config=KeyStoreConfig(
            ddb_table_name=store.table_name,
            kms_configuration=KMSConfigurationKmsKeyArn(kms_key_arn),
            logical_key_store_name=LOGICAL,
            ddb_client=dynamodb_client,
            kms_client=kms_client,
        )
    )
    # Ours -> AWS's.
    ours = store.create_key("ours", encryption_context={"k": "v"})
    store.version_key(ours)
    mine = store.get_active_branch_key(ours)
    theirs = aws.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=ours))
    got = theirs.branch_key_materials
    assert bytes(got.branch_key) == mine.branch_key
    assert got.branch_key_version == mine.branch_key_version
    assert got.encryption_context == {"k": "v"}
    beacon = aws.get_beacon_key(GetBeaconKeyInput(branch_key_identifier=ours))
    assert bytes(beacon.beacon_key_materials.beacon_key) == store.get_beacon_key(ours).beacon_key
    # AWS's can rotate a key we created, and we follow.
    aws.version_key(VersionKeyInput(branch_key_identifier=ours))
    assert store.get_active_branch_key(ours).branch_key_version != mine.branch_key_version

    # AWS's -> ours.
    created = aws.create_key(CreateKeyInput()).branch_key_identifier
    aws.version_key(VersionKeyInput(branch_key_identifier=created))
    active = aws.get_active_branch_key(
        GetActiveBranchKeyInput(branch_key_identifier=created)
    ).branch_key_materials
    read = store.get_active_branch_key(created)
    assert read.branch_key == bytes(active.branch_key)
    assert read.branch_key_version == active.branch_key_version
    old_versions = [
        t.removeprefix("branch:version:")
        for t in items_of(dynamodb_client, store.table_name, created)
        if t.startswith("branch:version:")
    ]
    assert len(old_versions) == 2
    for version in old_versions:
        expected = aws.get_branch_key_version(
            GetBranchKeyVersionInput(branch_key_identifier=created, branch_key_version=version)
        ).branch_key_materials.branch_key
        assert store.get_branch_key_version(created, version).branch_key == bytes(expected)
    # And ours rotates a key AWS's created; AWS's reads the new version.
    new_version = store.version_key(created)
    got = aws.get_active_branch_key(
        GetActiveBranchKeyInput(branch_key_identifier=created)
    ).branch_key_materials
    assert got.branch_key_version == new_version
    assert bytes(got.branch_key) == store.get_active_branch_key(created).branch_key


def _run_threads(count: int, target: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)
    threads = [
        threading.Thread(target=lambda i=i: (barrier.wait(), target(i))) for i in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_rotations_never_lose_or_orphan_a_version(
    store: KeyStore, dynamodb_client: Any
) -> None:
    key_id = store.create_key()
    won: list[str] = []
    lost: list[BaseException] = []

    def rotate(_: int) -> None:
        try:
            won.append(store.version_key(key_id))
        except ProviderError as exc:
            lost.append(exc)

    _run_threads(4, rotate)
    assert len(won) + len(lost) == 4
    assert won, "at least one rotation must succeed"
    items = items_of(dynamodb_client, store.table_name, key_id)
    versions = {t.removeprefix("branch:version:") for t in items if t.startswith("branch:version:")}
    # Every acknowledged rotation is stored; no loser's version was written.
    assert set(won) <= versions
    assert len(versions) == 1 + len(won)
    # ACTIVE names a stored version and opens to that version's key.
    active = store.get_active_branch_key(key_id)
    assert active.branch_key_version in won
    assert (
        store.get_branch_key_version(key_id, active.branch_key_version).branch_key
        == active.branch_key
    )
    for exc in lost:
        assert "nothing was written" in str(exc)


def test_concurrent_creators_of_one_id_one_wins(store: KeyStore, dynamodb_client: Any) -> None:
    results: list[str] = []
    refused: list[BaseException] = []

    def create(i: int) -> None:
        try:
            results.append(store.create_key("shared", encryption_context={"writer": str(i)}))
        except ProviderError as exc:
            refused.append(exc)

    _run_threads(4, create)
    assert results == ["shared"]
    assert len(refused) == 3
    # Refused as "already exists", or as a conflict with the winner's transaction in flight.
    for exc in refused:
        assert isinstance(exc, VersionAlreadyExistsError) or "in progress" in str(exc)
        assert "nothing was written" in str(exc)
    items = items_of(dynamodb_client, store.table_name, "shared")
    assert len(items) == 3
    writers = {item["aws-crypto-ec:writer"]["S"] for item in items.values()}
    assert len(writers) == 1  # one creator's items, never a mix
    assert store.get_active_branch_key("shared").encryption_context == {"writer": writers.pop()}
    with pytest.raises(VersionAlreadyExistsError, match="already exists"):
        store.create_key("shared", encryption_context={"writer": "late"})


def test_rotation_loses_to_a_rotation_slipped_in_before_its_write(
    store: KeyStore, dynamodb_client: Any, kms_client: Any, kms_key_arn: str
) -> None:
    import boto3

    key_id = store.create_key()
    other_client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_client.meta.endpoint_url,
        region_name="us-east-1",
    )
    other = KeyStore(
        table_name=store.table_name,
        logical_key_store_name=LOGICAL,
        kms_key_id=kms_key_arn,
        dynamodb_client=other_client,
        kms_client=kms_client,
    )
    slipped: list[str] = []

    def interfere(**_: Any) -> None:
        if not slipped:
            slipped.append(other.version_key(key_id))

    event = "before-call.dynamodb.TransactWriteItems"
    dynamodb_client.meta.events.register(event, interfere)
    try:
        with pytest.raises(ProviderError, match="concurrent rotation won"):
            store.version_key(key_id)
    finally:
        dynamodb_client.meta.events.unregister(event, interfere)
    assert store.get_active_branch_key(key_id).branch_key_version == slipped[0]
    assert len(items_of(dynamodb_client, store.table_name, key_id)) == 4


class _Raw:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._payload


def test_disabled_kms_key_is_a_provider_error(store: KeyStore, kms_client: Any) -> None:
    key_id = store.create_key()

    def disabled(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"__type": "DisabledException", "message": "key is disabled"})
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body.encode())
        )

    event = "before-send.kms.Decrypt"
    kms_client.meta.events.register(event, disabled)
    try:
        with pytest.raises(ProviderError, match=r"AWS KMS Decrypt failed \(DisabledException\)"):
            store.get_active_branch_key(key_id)
    finally:
        kms_client.meta.events.unregister(event, disabled)
    assert len(store.get_active_branch_key(key_id).branch_key) == 32


def test_missing_tampered_and_foreign_items_are_refused(
    store: KeyStore, dynamodb_client: Any, kms_client: Any
) -> None:
    key_id = store.create_key()
    with pytest.raises(NoKnownVersionError):
        store.get_active_branch_key("no-such-key")
    with pytest.raises(NoKnownVersionError):
        store.get_branch_key_version(key_id, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(NoKnownVersionError):
        store.version_key("no-such-key")
    # A changed attribute no longer matches what KMS bound: KMS refuses.
    key = {"branch-key-id": {"S": key_id}, "type": {"S": "beacon:ACTIVE"}}
    dynamodb_client.update_item(
        TableName=store.table_name,
        Key=key,
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "create-time"},
        ExpressionAttributeValues={":t": {"S": "2020-01-01T00:00:00.000000Z"}},
    )
    with pytest.raises(ProviderError, match="Decrypt failed") as info:
        store.get_beacon_key(key_id)
    assert "InvalidCiphertext" in str(info.value)
    # An extra attribute joins the context, so it is authenticated too.
    dynamodb_client.update_item(
        TableName=store.table_name,
        Key={"branch-key-id": {"S": key_id}, "type": {"S": "branch:ACTIVE"}},
        UpdateExpression="SET #x = :x",
        ExpressionAttributeNames={"#x": "aws-crypto-ec:injected"},
        ExpressionAttributeValues={":x": {"S": "1"}},
    )
    with pytest.raises(ProviderError, match="Decrypt failed"):
        store.get_active_branch_key(key_id)
    # A store configured with another KMS key does not send the item to KMS at all.
    other_arn = kms_client.describe_key(KeyId=kms_client.create_key()["KeyMetadata"]["KeyId"])[
        "KeyMetadata"
    ]["Arn"]
    foreign = KeyStore(
        table_name=store.table_name,
        logical_key_store_name=LOGICAL,
        kms_key_id=other_arn,
        dynamodb_client=dynamodb_client,
        kms_client=kms_client,
    )
    versions = [t for t in items_of(dynamodb_client, store.table_name, key_id) if "version:" in t]
    with pytest.raises(ProviderError, match="another KMS key"):
        foreign.get_branch_key_version(key_id, versions[0].removeprefix("branch:version:"))


def test_configuration_errors(
    dynamodb_client: Any, kms_client: Any, kms_key_id: str, kms_key_arn: str, make_table: Any
) -> None:
    def make(**overrides: Any) -> KeyStore:
        options: dict[str, Any] = {
            "table_name": "key-store",
            "logical_key_store_name": LOGICAL,
            "kms_key_id": kms_key_arn,
            "dynamodb_client": dynamodb_client,
            "kms_client": kms_client,
        }
        options.update(overrides)
        return KeyStore(**options)

    with pytest.raises(ConfigurationError, match="ARN"):
        make(kms_key_id=kms_key_id)
    with pytest.raises(ConfigurationError, match="ARN"):
        make(kms_key_id="arn:aws:kms:us-east-1:111122223333:alias/app")
    with pytest.raises(ConfigurationError, match="logical_key_store_name"):
        make(logical_key_store_name="")
    wrong_schema = make(table_name=make_table())
    with pytest.raises(ConfigurationError, match="partition key 'branch-key-id'"):
        wrong_schema.create_key_store()
    store = make()
    with pytest.raises(ConfigurationError, match="encryption_context"):
        store.create_key("chosen-id")
    assert "ARN" not in repr(store) or kms_key_arn in repr(store)


class _AnswerTransactions:
    """A ``before-send`` hook for TransactWriteItems that answers an error instead of the
    server: ``forward_first`` sends the first attempt on to the server before answering, as
    when the write happens but the response is lost."""

    def __init__(self, status: int, code: str, times: int, *, forward_first: bool = False) -> None:
        self.status, self.code, self.left, self.forward_first = status, code, times, forward_first
        self.answered = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        if not target.endswith(".TransactWriteItems") or self.left == 0:
            return None
        if self.forward_first and self.answered == 0:
            import urllib.request

            headers = {
                k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
            }
            forwarded = urllib.request.Request(request.url, data=request.body, headers=headers)
            with urllib.request.urlopen(forwarded) as response:  # the write really happens
                assert response.status == 200
        self.left -= 1
        self.answered += 1
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"}
        )
        return AWSResponse(
            request.url,
            self.status,
            {"Content-Type": "application/x-amz-json-1.0"},
            _Raw(body.encode()),
        )


@pytest.fixture
def inject_ddb(dynamodb_client: Any) -> Iterator[Callable[[_AnswerTransactions], None]]:
    hooks: list[_AnswerTransactions] = []

    def register(hook: _AnswerTransactions) -> None:
        dynamodb_client.meta.events.register("before-send.dynamodb.TransactWriteItems", hook)
        hooks.append(hook)

    yield register
    for hook in hooks:
        dynamodb_client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", hook)


def test_transient_write_failures_are_retried(
    store: KeyStore, dynamodb_client: Any, inject_ddb: Callable[[_AnswerTransactions], None]
) -> None:
    hook = _AnswerTransactions(500, "InternalServerError", 1)
    inject_ddb(hook)
    key_id = store.create_key()
    hook.left = 1
    hook.code, hook.status = "ThrottlingException", 400
    version = store.version_key(key_id)
    assert hook.answered == 2
    assert store.get_active_branch_key(key_id).branch_key_version == version
    assert len(items_of(dynamodb_client, store.table_name, key_id)) == 4


def test_lasting_failure_is_a_provider_error_and_writes_nothing(
    store: KeyStore, dynamodb_client: Any, inject_ddb: Callable[[_AnswerTransactions], None]
) -> None:
    key_id = store.create_key()
    before = items_of(dynamodb_client, store.table_name, key_id)
    inject_ddb(_AnswerTransactions(500, "InternalServerError", 100))
    with pytest.raises(ProviderError, match="InternalServerError"):
        store.version_key(key_id)
    with pytest.raises(ProviderError, match="InternalServerError"):
        store.create_key()
    assert items_of(dynamodb_client, store.table_name, key_id) == before


def test_write_applied_but_response_lost_is_not_reported_as_a_conflict(
    store: KeyStore, dynamodb_client: Any, inject_ddb: Callable[[_AnswerTransactions], None]
) -> None:
    """The retry carries the same ClientRequestToken, so DynamoDB answers it as the write that
    already happened instead of failing its conditions."""
    inject_ddb(_AnswerTransactions(500, "InternalServerError", 1, forward_first=True))
    key_id = store.create_key("lost-response", encryption_context={"k": "v"})
    assert len(items_of(dynamodb_client, store.table_name, key_id)) == 3
    inject_ddb(_AnswerTransactions(500, "InternalServerError", 1, forward_first=True))
    version = store.version_key(key_id)
    assert store.get_active_branch_key(key_id).branch_key_version == version


@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    custom=st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k.strip() == k and k),
        st.text(min_size=1, max_size=20),
        min_size=1,
        max_size=3,
    )
)
def test_custom_encryption_context_round_trips_with_aws_key_store(
    store: KeyStore, dynamodb_client: Any, kms_client: Any, kms_key_arn: str, custom: dict[str, str]
) -> None:
    """Any (non-ASCII included) custom encryption context is stored, bound and read back, by
    us and by AWS's key store."""
    from aws_cryptographic_material_providers.keystore import KeyStore as AwsKeyStore
    from aws_cryptographic_material_providers.keystore.config import KeyStoreConfig
    from aws_cryptographic_material_providers.keystore.models import (
        GetActiveBranchKeyInput,
        KMSConfigurationKmsKeyArn,
    )

    key_id = store.create_key(f"tenant-{uuid.uuid4()}", encryption_context=custom)
    store.version_key(key_id)
    assert dict(store.get_active_branch_key(key_id).encryption_context) == custom
    assert dict(store.get_beacon_key(key_id).encryption_context) == custom
    aws = AwsKeyStore(
        config=KeyStoreConfig(
            ddb_table_name=store.table_name,
            kms_configuration=KMSConfigurationKmsKeyArn(kms_key_arn),
            logical_key_store_name=LOGICAL,
            ddb_client=dynamodb_client,
            kms_client=kms_client,
        )
    )
    got = aws.get_active_branch_key(GetActiveBranchKeyInput(branch_key_identifier=key_id))
    assert got.branch_key_materials.encryption_context == custom
    assert (
        bytes(got.branch_key_materials.branch_key) == store.get_active_branch_key(key_id).branch_key
    )


def test_items_outside_the_record_format_are_refused_before_kms(
    store: KeyStore, dynamodb_client: Any, kms_client: Any, kms_key_arn: str
) -> None:
    base = {
        "branch-key-id": {"S": "bad"},
        "type": {"S": "branch:ACTIVE"},
        "version": {"S": "branch:version:00000000-0000-4000-8000-000000000000"},
        "enc": {"B": b"\x01" * 64},
        "create-time": {"S": "2026-01-01T00:00:00.000000Z"},
        "kms-arn": {"S": kms_key_arn},
        "hierarchy-version": {"N": "1"},
    }
    cases = {
        "'enc' is missing": {k: v for k, v in base.items() if k != "enc"},
        "'create-time' is missing": {k: v for k, v in base.items() if k != "create-time"},
        "'version' must be present": {k: v for k, v in base.items() if k != "version"},
        "not a branch key version": {**base, "version": {"S": "v1"}},
        "'enc' is not binary": {**base, "enc": {"S": "AAAA"}},
        "is not a string": {**base, "aws-crypto-ec:n": {"N": "1"}},
        "named 'tablename'": {**base, "tablename": {"S": LOGICAL}},
        "hierarchy-version 2 is not supported": {**base, "hierarchy-version": {"N": "2"}},
        "another KMS key": {
            **base,
            "kms-arn": {"S": kms_key_arn.replace("us-east-1", "eu-west-1")},
        },
    }
    kms_calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        kms_calls.append(model.name)

    kms_client.meta.events.register("before-call.kms.*", count)
    try:
        for expected, item in cases.items():
            dynamodb_client.put_item(TableName=store.table_name, Item=item)
            with pytest.raises(ProviderError, match=expected):
                store.get_active_branch_key("bad")
    finally:
        kms_client.meta.events.unregister("before-call.kms.*", count)
    assert kms_calls == []
