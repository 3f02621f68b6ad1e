"""Raw AES, static key store and hierarchical keyring: EDK shapes, the branch key cache, the
branch-key-id supplier, and failures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from pynamodb_encryption.dbesdk import (
    BeaconKeyMaterials,
    BranchKeyMaterials,
    CryptoAction,
    DbeNoDataKeyError,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    RawAesKeyring,
    StaticKeyStore,
)
from pynamodb_encryption.errors import ConfigurationError, ProviderError

S = CryptoAction.SIGN_ONLY
E = CryptoAction.ENCRYPT_AND_SIGN
ITEM = {"tenant": {"S": "acme"}, "secret": {"S": "x"}}
ACTIONS = {"tenant": S, "secret": E}


class CountingStore:
    """A branch key store with one key per tenant id and two versions each, counting calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.keys = {
            (bid, version): os.urandom(32)
            for bid in ("acme", "globex")
            for version in (str(uuid.UUID(int=1)), str(uuid.UUID(int=2)))
        }
        self.active = str(uuid.UUID(int=1))

    def get_active_branch_key(self, branch_key_id: str) -> BranchKeyMaterials:
        self.calls.append(("active", branch_key_id))
        return self.get_branch_key_version(branch_key_id, self.active, count=False)

    def get_branch_key_version(
        self, branch_key_id: str, branch_key_version: str, count: bool = True
    ) -> BranchKeyMaterials:
        if count:
            self.calls.append(("version", branch_key_id, branch_key_version))
        key = self.keys.get((branch_key_id, branch_key_version))
        if key is None:
            raise ProviderError("no such branch key", material_name=branch_key_id)
        return BranchKeyMaterials(
            branch_key_id=branch_key_id, branch_key_version=branch_key_version, branch_key=key
        )

    def get_beacon_key(self, branch_key_id: str) -> BeaconKeyMaterials:
        raise ProviderError("no beacon keys here")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TenantSupplier:
    def get_branch_key_id(self, encryption_context: Mapping[str, str]) -> str:
        # v1 context: the partition key value as base64(type id || value); S "acme" -> AAFhY21l
        return {"AAFhY21l": "acme", "AAFnbG9iZXg=": "globex"}[
            encryption_context["aws-crypto-attr.tenant"]
        ]


def encryptor(keyring: Any) -> DbEsdkItemEncryptor:
    return DbEsdkItemEncryptor(
        table_name="T", partition_key_name="tenant", attribute_actions=ACTIONS, keyring=keyring
    )


def test_warm_keyring_asks_the_key_store_nothing_per_item() -> None:
    store, clock = CountingStore(), Clock()
    keyring = HierarchicalKeyring(key_store=store, branch_key_id="acme", clock=clock)
    enc = encryptor(keyring)
    stored = [enc.encrypt(ITEM) for _ in range(20)]
    for item in stored:
        assert enc.decrypt(item) == ITEM
    assert store.calls == [("active", "acme"), ("version", "acme", str(uuid.UUID(int=1)))]
    # After the TTL, one more call each.
    clock.now += 601
    enc.decrypt(enc.encrypt(ITEM))
    assert len(store.calls) == 4


def test_rotation_items_under_the_old_version_still_decrypt() -> None:
    store, clock = CountingStore(), Clock()
    keyring = HierarchicalKeyring(key_store=store, branch_key_id="acme", ttl_seconds=0, clock=clock)
    enc = encryptor(keyring)
    old = enc.encrypt(ITEM)
    store.active = str(uuid.UUID(int=2))
    new = enc.encrypt(ITEM)
    assert old["aws_dbe_head"] != new["aws_dbe_head"]
    assert enc.decrypt(old) == ITEM
    assert enc.decrypt(new) == ITEM
    assert ("version", "acme", str(uuid.UUID(int=1))) in store.calls
    assert ("version", "acme", str(uuid.UUID(int=2))) in store.calls


def test_cache_is_bounded() -> None:
    store = CountingStore()
    keyring = HierarchicalKeyring(
        key_store=store, branch_key_id_supplier=TenantSupplier(), max_cache_entries=1
    )
    enc = encryptor(keyring)
    for tenant in ("acme", "globex", "acme"):
        enc.encrypt({**ITEM, "tenant": {"S": tenant}})
    assert [c for c in store.calls if c[0] == "active"] == [
        ("active", "acme"),
        ("active", "globex"),
        ("active", "acme"),
    ]


def test_supplier_chooses_the_branch_key_per_item() -> None:
    store = CountingStore()
    keyring = HierarchicalKeyring(key_store=store, branch_key_id_supplier=TenantSupplier())
    enc = encryptor(keyring)
    acme = enc.encrypt(ITEM)
    globex = enc.encrypt({**ITEM, "tenant": {"S": "globex"}})
    assert enc.read_header(acme).provider_infos == (b"acme",)
    assert enc.read_header(globex).provider_infos == (b"globex",)
    assert enc.decrypt(globex)["tenant"] == {"S": "globex"}
    # A keyring pinned to another tenant cannot open it.
    other = encryptor(HierarchicalKeyring(key_store=store, branch_key_id="acme"))
    with pytest.raises(DbeNoDataKeyError):
        other.decrypt(globex)


def test_hierarchical_edk_shape() -> None:
    store = CountingStore()
    enc = encryptor(HierarchicalKeyring(key_store=store, branch_key_id="acme"))
    header = enc.read_header(enc.encrypt(ITEM)).header
    (edk,) = header.encrypted_data_keys
    assert edk.provider_id == b"aws-kms-hierarchy"
    assert len(edk.ciphertext) == 140
    assert edk.ciphertext[76:92] == uuid.UUID(int=1).bytes


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"branch_key_id": "a", "branch_key_id_supplier": TenantSupplier()},
        {"branch_key_id": ""},
        {"branch_key_id": "a", "ttl_seconds": -1},
        {"branch_key_id": "a", "ttl_seconds": "10"},
        {"branch_key_id": "a", "max_cache_entries": 0},
        {"branch_key_id_supplier": object()},
    ],
)
def test_hierarchical_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        HierarchicalKeyring(key_store=CountingStore(), **kwargs)
    with pytest.raises(ConfigurationError):
        HierarchicalKeyring(key_store=object(), branch_key_id="a")  # type: ignore[arg-type]


def test_supplier_failures_are_provider_errors() -> None:
    class Broken:
        def get_branch_key_id(self, encryption_context: Mapping[str, str]) -> str:
            raise KeyError("boom")

    enc = encryptor(HierarchicalKeyring(key_store=CountingStore(), branch_key_id_supplier=Broken()))
    with pytest.raises(ProviderError):
        enc.encrypt(ITEM)


def test_static_key_store() -> None:
    store = StaticKeyStore(
        branch_key_id="b",
        branch_key_version=str(uuid.UUID(int=5)),
        branch_key=bytes(32),
        beacon_key=bytes(range(32)),
    )
    assert store.get_active_branch_key("b").branch_key == bytes(32)
    assert store.get_beacon_key("b").beacon_key == bytes(range(32))
    with pytest.raises(ProviderError):
        store.get_active_branch_key("c")
    with pytest.raises(ProviderError):
        store.get_branch_key_version("b", str(uuid.UUID(int=6)))
    assert "b" in repr(store)
    assert "\\x00" not in repr(store)
    with pytest.raises(ConfigurationError):
        StaticKeyStore(
            branch_key_id="b", branch_key_version="v1", branch_key=bytes(32), beacon_key=bytes(32)
        )
    with pytest.raises(ConfigurationError):
        StaticKeyStore(
            branch_key_id="b",
            branch_key_version=str(uuid.UUID(int=5)),
            branch_key=bytes(16),
            beacon_key=bytes(32),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key_namespace": "", "key_name": "k", "wrapping_key": bytes(32)},
        {"key_namespace": "aws-kms", "key_name": "k", "wrapping_key": bytes(32)},
        {"key_namespace": "n", "key_name": "", "wrapping_key": bytes(32)},
        {"key_namespace": "n", "key_name": "k", "wrapping_key": bytes(20)},
        {"key_namespace": "n", "key_name": "k", "wrapping_key": "x" * 32},
    ],
)
def test_raw_aes_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RawAesKeyring(**kwargs)


def test_raw_aes_repr_has_no_key() -> None:
    keyring = RawAesKeyring(key_namespace="n", key_name="k", wrapping_key=b"\x01" * 32)
    assert repr(keyring) == "RawAesKeyring(key_namespace='n', key_name='k')"
