"""Beacons on the item path, and beacon key sources (unit tests, no server).

Items written by `BeaconItemEncryptor` decrypt with the test-only independent decoder
(beacons are outside the signature) and their beacons equal a computation written here from
the format notes, sharing no code with the library.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

import pytest
from _dbe_independent import decrypt as independent_decrypt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.dbesdk import (
    BeaconItemEncryptor,
    BeaconKeyMaterials,
    BeaconVersion,
    CompoundBeacon,
    CryptoAction,
    DbEsdkItemEncryptor,
    EncryptedPart,
    HierarchicalKeyring,
    MultiBeaconKeySource,
    RawAesKeyring,
    SignedPart,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
    prepare_query,
)
from pynamodb_encryption.errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    ProviderError,
)

E = CryptoAction.ENCRYPT_AND_SIGN
S = CryptoAction.SIGN_ONLY
BEACON_KEY = bytes(range(32))
WRAPPING_KEY = bytes(range(32, 64))
VERSION = str(uuid.UUID(int=7))


def _store(branch_key_id: str = "bk") -> StaticKeyStore:
    return StaticKeyStore(
        branch_key_id=branch_key_id,
        branch_key_version=VERSION,
        branch_key=bytes(32),
        beacon_key=BEACON_KEY,
    )


def independent_beacon(name: str, text: str, bits: int, partition: int = 0) -> str:
    """HKDF-SHA512 → HMAC-SHA384 → low bits as hex (format notes §3.1-3.2)."""
    key = HKDF(
        algorithm=hashes.SHA512(),
        length=64,
        salt=None,
        info=b"AWS_DBE_SCAN_BEACON" + name.encode(),
    ).derive(BEACON_KEY)
    data = text.encode("utf-8") + (bytes([partition]) if partition else b"")
    h = int.from_bytes(hmac.new(key, data, hashlib.sha384).digest()[:8], "big")
    return f"{h & ((1 << bits) - 1):0{(bits + 3) // 4}x}"


ACTIONS = {"pk": S, "ssn": E, "zip": E, "visit": S, "note": E, "Visit": S}
VERSION_CONFIG = BeaconVersion(
    standard_beacons=(StandardBeacon("ssn", 16), StandardBeacon("zip", 10)),
    compound_beacons=(
        CompoundBeacon(
            "zipvisit",
            ".",
            encrypted=(EncryptedPart("zip", "Z-"),),
            signed=(SignedPart("visit", "V-"),),
        ),
        CompoundBeacon("Visit", ".", signed=(SignedPart("visit", "V-"),)),
    ),
    key_source=SingleBeaconKeySource(key_store=_store(), beacon_key_id="bk"),
)
ITEM = {
    "pk": {"S": "p1"},
    "ssn": {"S": "078-05-1120"},
    "zip": {"S": "02134"},
    "visit": {"S": "20240101"},
    "note": {"S": "hello"},
}


def _beacons() -> BeaconItemEncryptor:
    encryptor = DbEsdkItemEncryptor(
        table_name="patients",
        partition_key_name="pk",
        attribute_actions=ACTIONS,
        keyring=RawAesKeyring(key_namespace="ns", key_name="k", wrapping_key=WRAPPING_KEY),
    )
    return BeaconItemEncryptor(encryptor, VERSION_CONFIG)


def test_written_items_verify_and_decrypt_independently_with_expected_beacons() -> None:
    beacons = _beacons()
    stored = beacons.encrypt(ITEM)
    assert stored["aws_dbe_b_ssn"] == {"S": independent_beacon("ssn", "078-05-1120", 16)}
    assert stored["aws_dbe_b_zip"] == {"S": independent_beacon("zip", "02134", 10)}
    # The default constructor: signed parts first, then encrypted parts (as AWS's YearName).
    assert stored["aws_dbe_b_zipvisit"] == {
        "S": "V-20240101.Z-" + independent_beacon("zip", "02134", 10)
    }
    # The signed beacon is an ordinary signed attribute, added before signing.
    assert stored["Visit"] == {"S": "V-20240101"}
    assert stored["aws_dbe_v_1"] == {"S": " "}
    plain = independent_decrypt(
        stored,
        table="patients",
        partition_key="pk",
        sort_key=None,
        unsigned=set(),
        namespace="ns",
        key_name="k",
        wrapping_key=WRAPPING_KEY,
    )
    assert {k: v for k, v in plain.items() if not k.startswith("aws_dbe_")} == {
        **ITEM,
        "Visit": {"S": "V-20240101"},
    }
    assert beacons.decrypt(stored) == {**ITEM, "Visit": {"S": "V-20240101"}}
    assert ITEM == {
        "pk": {"S": "p1"},
        "ssn": {"S": "078-05-1120"},
        "zip": {"S": "02134"},
        "visit": {"S": "20240101"},
        "note": {"S": "hello"},
    }


def test_beacons_are_outside_the_signature() -> None:
    beacons = _beacons()
    stored = beacons.encrypt(ITEM)
    # Changing a beacon does not break the item (as DB-ESDK: beacons are not signed) ...
    assert beacons.decrypt({**stored, "aws_dbe_b_ssn": {"S": "0000"}})["ssn"] == ITEM["ssn"]
    # ... but the signed beacon is signed.
    with pytest.raises(DecryptionError):
        beacons.decrypt({**stored, "Visit": {"S": "V-1"}})


def test_reserved_names_and_wrong_signed_beacons_are_refused() -> None:
    beacons = _beacons()
    with pytest.raises(EncryptionError, match="reserved"):
        beacons.encrypt({**ITEM, "aws_dbe_b_ssn": {"S": "x"}})
    with pytest.raises(EncryptionError, match="signed beacon"):
        beacons.encrypt({**ITEM, "Visit": {"S": "V-2"}})
    assert beacons.encrypt({**ITEM, "Visit": {"S": "V-20240101"}})["Visit"]["S"] == "V-20240101"


def test_partition_selector_is_used_and_checked() -> None:
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", 16), StandardBeacon("zip", 10)),
        key_source=SingleBeaconKeySource(key_store=_store(), beacon_key_id="bk"),
        maximum_number_of_partitions=3,
    )
    encryptor = _beacons().encryptor
    beacons = BeaconItemEncryptor(encryptor, version, partition_selector=lambda item, n: 2)
    stored = beacons.encrypt(ITEM)
    assert stored["aws_dbe_b_ssn"]["S"] == independent_beacon("ssn", "078-05-1120", 16, 2)
    bad = BeaconItemEncryptor(encryptor, version, partition_selector=lambda item, n: n)
    with pytest.raises(ConfigurationError, match="partition selector"):
        bad.encrypt(ITEM)


class _CountingStore:
    def __init__(self) -> None:
        self.calls = 0
        self.inner = _store("tenant-a")
        self.other = _store("tenant-b")

    def get_active_branch_key(self, branch_key_id: str) -> Any:
        raise AssertionError

    def get_branch_key_version(self, branch_key_id: str, version: str) -> Any:
        raise AssertionError

    def get_beacon_key(self, branch_key_id: str) -> BeaconKeyMaterials:
        self.calls += 1
        store = self.inner if branch_key_id == "tenant-a" else self.other
        return store.get_beacon_key(branch_key_id)


def test_single_source_caches_for_its_ttl() -> None:
    now = [1000.0]
    store = _CountingStore()
    source = SingleBeaconKeySource(
        key_store=store, beacon_key_id="tenant-a", cache_ttl_seconds=60, clock=lambda: now[0]
    )
    assert source.beacon_key(None).beacon_key == BEACON_KEY
    now[0] += 60
    source.beacon_key(None)
    assert store.calls == 1
    now[0] += 0.5
    source.beacon_key(None)
    assert store.calls == 2
    with pytest.raises(ConfigurationError, match="single"):
        source.beacon_key("tenant-b")
    with pytest.raises(ConfigurationError):
        SingleBeaconKeySource(key_store=store, beacon_key_id="x", cache_ttl_seconds=0)
    assert repr(BEACON_KEY) not in repr(source)


def test_multi_source_keys_by_tenant_and_evicts() -> None:
    now = [0.0]
    store = _CountingStore()
    source = MultiBeaconKeySource(
        key_store=store, key_field_name="tenant", max_entries=1, clock=lambda: now[0]
    )
    assert source.beacon_key("tenant-a").beacon_key_id == "tenant-a"
    assert source.beacon_key("tenant-b").beacon_key_id == "tenant-b"
    source.beacon_key("tenant-b")
    assert store.calls == 2
    source.beacon_key("tenant-a")  # evicted by tenant-b (max_entries=1)
    assert store.calls == 3
    with pytest.raises(ConfigurationError, match="tenant"):
        source.beacon_key(None)
    with pytest.raises(ProviderError):
        source.beacon_key("tenant-c")


def test_multi_tenant_items_use_the_branch_key_of_their_data_key() -> None:
    store = _CountingStore()
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", 16),),
        key_source=MultiBeaconKeySource(key_store=store, key_field_name="tenant"),
    )
    encryptor = DbEsdkItemEncryptor(
        table_name="patients",
        partition_key_name="pk",
        attribute_actions={"pk": S, "ssn": E},
        keyring=HierarchicalKeyring(key_store=store.inner, branch_key_id="tenant-a"),
    )
    beacons = BeaconItemEncryptor(encryptor, version)
    stored = beacons.encrypt({"pk": {"S": "1"}, "ssn": {"S": "x"}, "tenant": {"S": "tenant-a"}})
    # The key field is not a table attribute: DB-ESDK drops it before writing.
    assert "tenant" not in stored
    assert stored["aws_dbe_b_ssn"]["S"] == independent_beacon("ssn", "x", 16)


def test_multi_tenant_queries_drop_other_tenants_items() -> None:
    store = _CountingStore()
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", 1),),  # 1 bit: tenants' beacons collide
        key_source=MultiBeaconKeySource(key_store=store, key_field_name="tenant"),
    )
    actions = {"pk": S, "ssn": E, "tenant": S}

    def tenant(key_store: StaticKeyStore, branch_key_id: str) -> BeaconItemEncryptor:
        encryptor = DbEsdkItemEncryptor(
            table_name="patients",
            partition_key_name="pk",
            attribute_actions=actions,
            keyring=HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id),
        )
        return BeaconItemEncryptor(encryptor, version)

    a, b = tenant(store.inner, "tenant-a"), tenant(store.other, "tenant-b")
    item_a = {"pk": {"S": "1"}, "ssn": {"S": "x"}, "tenant": {"S": "tenant-a"}}
    item_b = {"pk": {"S": "2"}, "ssn": {"S": "x"}, "tenant": {"S": "tenant-b"}}
    stored = [a.encrypt(item_a), b.encrypt(item_b)]
    query = prepare_query(
        a,
        {
            "TableName": "patients",
            "FilterExpression": "ssn = :s AND tenant = :t",
            "ExpressionAttributeValues": {":s": {"S": "x"}, ":t": {"S": "tenant-a"}},
        },
        scan=True,
    )
    assert query.beacon_key_id == "tenant-a"
    # Tenant b's item (its data key under branch key tenant-b) is dropped before decryption,
    # whatever its beacon.
    assert query.decrypt(stored) == [item_a]
    # The tenant can also come from the key field's signed part of a compound beacon.
    by_part = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", 1),),
        compound_beacons=(
            CompoundBeacon(
                "tenant_ssn",
                ".",
                encrypted=(EncryptedPart("ssn", "S-"),),
                signed=(SignedPart("tenant", "T-"),),
            ),
        ),
        key_source=MultiBeaconKeySource(key_store=store, key_field_name="tenant"),
    )
    part_query = prepare_query(
        BeaconItemEncryptor(a.encryptor, by_part),
        {
            "TableName": "patients",
            "FilterExpression": "tenant_ssn = :v",
            "ExpressionAttributeValues": {":v": {"S": "T-tenant-a.S-x"}},
        },
        scan=True,
    )
    assert part_query.beacon_key_id == "tenant-a"
    with pytest.raises(ConfigurationError, match="beacon key id"):
        prepare_query(
            a,
            {
                "TableName": "patients",
                "FilterExpression": "ssn = :s",
                "ExpressionAttributeValues": {":s": {"S": "x"}},
            },
            scan=True,
        )


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=40),
    bits=st.integers(min_value=1, max_value=63),
    partition=st.integers(min_value=0, max_value=4),
)
def test_standard_beacons_match_the_independent_computation(
    text: str, bits: int, partition: int
) -> None:
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", bits),),
        key_source=SingleBeaconKeySource(key_store=_store(), beacon_key_id="bk"),
        maximum_number_of_partitions=5,
    )
    encryptor = DbEsdkItemEncryptor(
        table_name="patients",
        partition_key_name="pk",
        attribute_actions={"pk": S, "ssn": E},
        keyring=RawAesKeyring(key_namespace="ns", key_name="k", wrapping_key=WRAPPING_KEY),
    )
    beacons = BeaconItemEncryptor(encryptor, version)
    got = beacons.beacons({"ssn": {"S": text}}, partition=partition)["aws_dbe_b_ssn"]["S"]
    assert got == independent_beacon("ssn", text, bits, partition)


def test_python_values_surface_matches_the_wrapped_encryptor() -> None:
    beacons = _beacons()
    item = {"pk": "p1", "ssn": "078-05-1120", "zip": "02134", "visit": "20240101"}
    stored = beacons.encrypt_python(item)
    assert stored["aws_dbe_b_ssn"] == independent_beacon("ssn", "078-05-1120", 16)
    assert beacons.decrypt_python(stored) == {**item, "Visit": "V-20240101"}
    assert beacons.table_name == "patients"
    assert beacons.attribute_actions == beacons.encryptor.attribute_actions
    assert beacons.read_header(beacons.encrypt(ITEM)).provider_ids == ("ns",)


def test_beacons_are_current_only_when_exactly_what_a_write_stores() -> None:
    # The re-encryption job's test: an item is left alone only with these beacons.
    beacons = _beacons()
    stored = beacons.encrypt(ITEM)
    plain = beacons.encryptor.decrypt(stored)
    assert beacons.beacons_are_current(stored, plain)
    missing = {k: v for k, v in stored.items() if k != "aws_dbe_b_zip"}
    assert not beacons.beacons_are_current(missing, plain)
    untagged = {k: v for k, v in stored.items() if k != "aws_dbe_v_1"}
    assert not beacons.beacons_are_current(untagged, plain)
    stale = {**stored, "aws_dbe_b_gone": {"S": "abcd"}}
    assert not beacons.beacons_are_current(stale, plain)
    other = {**stored, "aws_dbe_b_ssn": {"S": independent_beacon("ssn", "000-00-0000", 16)}}
    assert not beacons.beacons_are_current(other, plain)
    assert not beacons.beacons_are_current(stored, {**plain, "Visit": {"S": "V-19990101"}})
    # Another partition than the one written is as current as partition 0.
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", 16), StandardBeacon("zip", 10)),
        key_source=SingleBeaconKeySource(key_store=_store(), beacon_key_id="bk"),
        maximum_number_of_partitions=3,
    )
    partitioned = BeaconItemEncryptor(
        beacons.encryptor, version, partition_selector=lambda item, n: 2
    )
    written = partitioned.encrypt(ITEM)
    assert partitioned.beacons_are_current(written, partitioned.encryptor.decrypt(written))
    assert not beacons.beacons_are_current(written, partitioned.encryptor.decrypt(written))
