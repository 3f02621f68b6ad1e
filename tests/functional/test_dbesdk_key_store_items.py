"""Items in a real table under a hierarchical keyring backed by the DynamoDB branch key store.

Uses only the public DB-ESDK names of issue 10's contract. Create the key store and a branch
key, write items, rotate, write more; every item reads back after the rotation (those written
under version N included), each item's header names the version it was written under, and a
warm keyring makes no KMS call per item.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    KeyStore,
)

HEADER = "aws_dbe_head"


class KmsCalls:
    """Counts the KMS operations a client sends (botocore ``before-call`` events)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._client = client
        client.meta.events.register("before-call.kms.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def close(self) -> None:
        self._client.meta.events.unregister("before-call.kms.*", self._count)


@pytest.fixture
def kms_calls(kms_client: Any) -> Iterator[KmsCalls]:
    counter = KmsCalls(kms_client)
    yield counter
    counter.close()


@pytest.fixture
def key_store(
    dynamodb_client: Any, kms_client: Any, kms_key_arn: str, table_name: str
) -> Iterator[KeyStore]:
    store_table = f"{table_name[:200]}-keys"
    store = KeyStore(
        table_name=store_table,
        logical_key_store_name="orders-key-store",
        kms_key_id=kms_key_arn,
        dynamodb_client=dynamodb_client,
        kms_client=kms_client,
    )
    store.create_key_store()
    yield store
    # Cleanup only, best effort: the servers keep everything in memory anyway.
    with contextlib.suppress(Exception):
        dynamodb_client.delete_table(TableName=store_table)


def encryptor_for(table: str, keyring: HierarchicalKeyring) -> DbEsdkItemEncryptor:
    return DbEsdkItemEncryptor(
        table_name=table,
        partition_key_name="pk",
        attribute_actions={
            "pk": CryptoAction.SIGN_ONLY,
            "secret": CryptoAction.ENCRYPT_AND_SIGN,
            "amount": CryptoAction.ENCRYPT_AND_SIGN,
            "blob": CryptoAction.ENCRYPT_AND_SIGN,
            "note": CryptoAction.SIGN_ONLY,
        },
        keyring=keyring,
    )


def plaintext(index: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"order-{index}"},
        "secret": {"S": f"card ending {index:04d}"},
        "amount": {"N": str(10 + index)},
        "blob": {"B": bytes([index % 256]) * 5},
        "note": {"S": "visible but signed"},
    }


def write(client: Any, table: str, encryptor: DbEsdkItemEncryptor, index: int) -> None:
    item = plaintext(index)
    encrypted = encryptor.encrypt(item)
    assert encrypted["secret"] != item["secret"]
    assert item == plaintext(index)  # the caller's item is never mutated
    client.put_item(TableName=table, Item=encrypted)


def read(client: Any, table: str, encryptor: DbEsdkItemEncryptor, index: int) -> dict[str, Any]:
    return client.get_item(
        TableName=table, Key={"pk": {"S": f"order-{index}"}}, ConsistentRead=True
    )["Item"]


def names_version(stored: dict[str, Any], version: str) -> bool:
    """The hierarchy EDK in the header carries the branch key version's 16 UUID bytes."""
    header: bytes = stored[HEADER]["B"]
    return uuid.UUID(version).bytes in header


def test_items_survive_rotation_and_warm_keyring_makes_no_kms_call(
    dynamodb_client: Any,
    make_table: Callable[..., str],
    key_store: KeyStore,
    kms_calls: KmsCalls,
) -> None:
    table = make_table()
    branch_key_id = key_store.create_key()
    version_1 = key_store.get_active_branch_key(branch_key_id).branch_key_version

    keyring = HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    encryptor = encryptor_for(table, keyring)

    # Warm up: the first write and the first read fetch the branch key once each.
    write(dynamodb_client, table, encryptor, 0)
    assert encryptor.decrypt(read(dynamodb_client, table, encryptor, 0)) == plaintext(0)
    warm = kms_calls.total()
    for index in range(1, 11):
        write(dynamodb_client, table, encryptor, index)
    for index in range(11):
        assert encryptor.decrypt(read(dynamodb_client, table, encryptor, index)) == (
            plaintext(index)
        )
    assert kms_calls.total() == warm, f"warm keyring called KMS: {kms_calls.calls}"

    # Rotate. A fresh keyring (a new process) writes under version 2.
    version_2 = key_store.version_key(branch_key_id)
    assert version_2 != version_1
    assert key_store.get_active_branch_key(branch_key_id).branch_key_version == version_2
    fresh = encryptor_for(
        table, HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    )
    for index in range(11, 16):
        write(dynamodb_client, table, fresh, index)

    # Every item reads back, each naming the version it was written under.
    for index in range(16):
        stored = read(dynamodb_client, table, fresh, index)
        assert names_version(stored, version_1 if index < 11 else version_2), index
        assert not names_version(stored, version_2 if index < 11 else version_1), index
        assert fresh.decrypt(stored) == plaintext(index)
        # The warm keyring of before the rotation reads the new items too.
        assert encryptor.decrypt(stored) == plaintext(index)

    # Warm again: reading all 16 items (both versions) and writing more costs no KMS call.
    warm = kms_calls.total()
    for index in range(16):
        assert fresh.decrypt(read(dynamodb_client, table, fresh, index)) == plaintext(index)
    for index in range(16, 20):
        write(dynamodb_client, table, fresh, index)
    assert kms_calls.total() == warm, f"warm keyring called KMS: {kms_calls.calls}"


def test_cold_keyring_fetches_each_version_once(
    dynamodb_client: Any,
    make_table: Callable[..., str],
    key_store: KeyStore,
    kms_calls: KmsCalls,
) -> None:
    table = make_table()
    branch_key_id = key_store.create_key()
    writer = encryptor_for(
        table, HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    )
    for index in range(3):
        write(dynamodb_client, table, writer, index)
    key_store.version_key(branch_key_id)
    writer = encryptor_for(
        table, HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    )
    for index in range(3, 6):
        write(dynamodb_client, table, writer, index)

    reader = encryptor_for(
        table, HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    )
    before = Counter(kms_calls.calls)
    for index in range(6):
        assert reader.decrypt(read(dynamodb_client, table, reader, index)) == plaintext(index)
    decrypts = kms_calls.calls["Decrypt"] - before["Decrypt"]
    # Two versions, each unwrapped once by KMS however many items use it.
    assert decrypts == 2, kms_calls.calls
