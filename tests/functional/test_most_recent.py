"""MetaStore and MostRecentProvider against real DynamoDB API servers (both backends)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    ConfigurationError,
    CryptoAction,
    InvalidMaterialDescriptionError,
    ItemEncryptor,
    MetaStore,
    MostRecentProvider,
    NoKnownVersionError,
    ProviderError,
    SymmetricKey,
    VersionAlreadyExistsError,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core._md import decode_material_description, encode_material_description
from pynamodb_encryption.providers._most_recent import GRACE_SECONDS, version_from_description

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

MD = "*amzn-ddb-map-desc*"
DATA_TABLE = "DataTable"
ITEM = {"pk": {"S": "k"}, "secret": {"S": "the plaintext"}, "n": {"N": "3"}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _meta_provider() -> WrappedMaterialsProvider:
    # Fixed keys, so a second MetaStore object (another "process") can read the same table.
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32, 64)), "HmacSHA256"),
    )


@pytest.fixture
def meta_table(dynamodb_client: DynamoDBClient, table_name: str) -> Iterator[str]:
    MetaStore.create_table(dynamodb_client, table_name)
    yield table_name
    with contextlib.suppress(Exception):
        dynamodb_client.delete_table(TableName=table_name)


@pytest.fixture
def store(dynamodb_client: DynamoDBClient, meta_table: str) -> MetaStore:
    return MetaStore(
        table_name=meta_table, materials_provider=_meta_provider(), dynamodb_client=dynamodb_client
    )


def _encryptor(provider: Any) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=DATA_TABLE,
        partition_key_name="pk",
        attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=provider,
    )


def _meta_id(stored: dict[str, Any]) -> str:
    return decode_material_description(stored[MD]["B"])["amzn-ddb-meta-id"]


# --------------------------------------------------------------------------------------------
# MetaStore


def test_create_table_schema(dynamodb_client: DynamoDBClient, meta_table: str) -> None:
    table = dynamodb_client.describe_table(TableName=meta_table)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [
        {"AttributeName": "N", "KeyType": "HASH"},
        {"AttributeName": "V", "KeyType": "RANGE"},
    ]
    assert sorted(
        (d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]
    ) == [("N", "S"), ("V", "N")]


def test_create_table_provisioned(dynamodb_client: DynamoDBClient, table_name: str) -> None:
    MetaStore.create_table(dynamodb_client, table_name, read_capacity=2, write_capacity=3)
    try:
        table = dynamodb_client.describe_table(TableName=table_name)["Table"]
        throughput = table.get("ProvisionedThroughput", {})
        assert (throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")) == (2, 3)
        with pytest.raises(ProviderError) as info:  # already exists
            MetaStore.create_table(dynamodb_client, table_name)
        assert "ResourceInUse" in str(info.value)
    finally:
        dynamodb_client.delete_table(TableName=table_name)
    with pytest.raises(ConfigurationError):
        MetaStore.create_table(dynamodb_client, table_name, read_capacity=1)


def test_versions_and_meta_item_format(
    store: MetaStore, dynamodb_client: DynamoDBClient, meta_table: str
) -> None:
    with pytest.raises(NoKnownVersionError) as info:
        store.max_version("mat")
    assert info.value.material_name == "mat"
    assert store.versions("mat") == []
    assert [store.new_version("mat") for _ in range(3)] == [0, 1, 2]
    assert store.max_version("mat") == 2
    assert store.versions("mat") == [0, 1, 2]
    assert store.versions("other") == []

    raw = dynamodb_client.get_item(
        TableName=meta_table, Key={"N": {"S": "mat"}, "V": {"N": "1"}}, ConsistentRead=True
    )["Item"]
    # N and V in the clear (signed), the rest encrypted, plus signature and description.
    assert raw["N"] == {"S": "mat"}
    assert raw["V"] == {"N": "1"}
    assert set(raw) == {
        "N", "V", "t", "encAlg", "enc", "intAlg", "int", MD, "*amzn-ddb-map-sig*",
    }  # fmt: skip
    for name in ("t", "encAlg", "enc", "intAlg", "int"):
        assert raw[name].keys() == {"B"}
    # The meta item decrypts with the documented context: table = meta table, N/V keys.
    plain = ItemEncryptor(
        table_name=meta_table,
        partition_key_name="N",
        sort_key_name="V",
        attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=_meta_provider(),
    ).decrypt(raw)
    assert plain["t"] == {"S": "0"}
    assert plain["encAlg"] == {"S": "AES"}
    assert plain["intAlg"] == {"S": "HmacSHA256"}
    assert len(plain["enc"]["B"]) == 32
    assert len(plain["int"]["B"]) == 32


def test_provider_of_a_version(store: MetaStore) -> None:
    with pytest.raises(NoKnownVersionError):
        store.provider("mat", 0)
    store.new_version("mat")
    stored = _encryptor(store.provider("mat", 0)).encrypt(ITEM)
    md = decode_material_description(stored[MD]["B"])
    assert md["amzn-ddb-meta-id"] == "mat#0"
    assert md["amzn-ddb-wrap-alg"] == "AESWrap"
    assert md["amzn-ddb-env-alg"] == "AES/256"
    assert md["amzn-ddb-map-signingAlg"] == "HmacSHA256"
    assert _encryptor(store.provider("mat", 0)).decrypt(stored) == ITEM


def test_lost_race_raises_version_already_exists(
    store: MetaStore, dynamodb_client: DynamoDBClient, meta_table: str
) -> None:
    store.new_version("mat")
    with pytest.raises(VersionAlreadyExistsError) as info:
        store._put_new("mat", 0, (bytes(32), bytes(32)))
    assert info.value.material_name == "mat"
    # get_or_create reads the existing keys back instead.
    existing = _encryptor(store.provider("mat", 0)).encrypt(ITEM)
    assert _encryptor(store.get_or_create_provider("mat", 0)).decrypt(existing) == ITEM


def test_concurrent_new_versions(store: MetaStore) -> None:
    created: list[int] = []
    lost: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def rotate() -> None:
        barrier.wait()
        for _ in range(3):
            try:
                version = store.new_version("race")
            except VersionAlreadyExistsError:
                with lock:
                    lost.append(1)
            else:
                with lock:
                    created.append(version)

    threads = [threading.Thread(target=rotate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == len(set(created))  # no version handed out twice
    assert sorted(created) == store.versions("race") == list(range(len(created)))
    assert len(created) + len(lost) == 18


def test_tampered_meta_item_is_rejected(
    store: MetaStore, dynamodb_client: DynamoDBClient, meta_table: str
) -> None:
    store.new_version("mat")
    key = {"N": {"S": "mat"}, "V": {"N": "0"}}
    raw = dynamodb_client.get_item(TableName=meta_table, Key=key, ConsistentRead=True)["Item"]
    raw["V"] = {"N": "1"}  # a copy of version 0 under another version: signature breaks
    dynamodb_client.put_item(TableName=meta_table, Item=raw)
    with pytest.raises(ProviderError) as info:
        store.provider("mat", 1)
    assert info.value.material_name == "mat"
    assert store.provider("mat", 0) is not None


def test_material_names_with_hash_are_rejected(store: MetaStore) -> None:
    with pytest.raises(ConfigurationError):
        store.new_version("a#b")
    with pytest.raises(ConfigurationError):
        MostRecentProvider(meta_store=store, material_name="a#b", ttl_seconds=1)
    with pytest.raises(ConfigurationError):
        MostRecentProvider(meta_store=store, material_name="", ttl_seconds=1)


def test_dynamodb_client_created_lazily(
    ddb_endpoint: str, meta_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    created: list[tuple[Any, ...]] = []
    real_client = boto3.client

    def spy(*args: Any, **kwargs: Any) -> Any:
        created.append(args)
        return real_client(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", spy)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb_endpoint)
    store = MetaStore(table_name=meta_table, materials_provider=_meta_provider())
    assert created == []
    assert store.new_version("lazy") == 0
    assert created == [("dynamodb",)]


def test_meta_items_protected_by_kms(
    dynamodb_client: DynamoDBClient,
    meta_table: str,
    kms_client: KMSClient,
    kms_key_id: str,
) -> None:
    kms = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    store = MetaStore(
        table_name=meta_table, materials_provider=kms, dynamodb_client=dynamodb_client
    )
    provider = MostRecentProvider(meta_store=store, material_name="kms-mat", ttl_seconds=60)
    stored = _encryptor(provider).encrypt(ITEM)
    assert _meta_id(stored) == "kms-mat#0"
    fresh = MostRecentProvider(meta_store=store, material_name="kms-mat", ttl_seconds=60)
    assert _encryptor(fresh).decrypt(stored) == ITEM


# --------------------------------------------------------------------------------------------
# MostRecentProvider


def test_first_encrypt_creates_version_zero(store: MetaStore) -> None:
    provider = MostRecentProvider(meta_store=store, material_name="new", ttl_seconds=60)
    assert provider.current_version is None
    stored = _encryptor(provider).encrypt(ITEM)
    assert _meta_id(stored) == "new#0"
    assert provider.current_version == 0
    assert store.versions("new") == [0]
    assert _encryptor(provider).decrypt(stored) == ITEM


def test_rotation_is_picked_up_after_the_ttl(store: MetaStore) -> None:
    clock = FakeClock()
    provider = MostRecentProvider(
        meta_store=store, material_name="rot", ttl_seconds=10, clock=clock
    )
    encryptor = _encryptor(provider)
    v0 = encryptor.encrypt(ITEM)
    assert _meta_id(v0) == "rot#0"
    assert store.new_version("rot") == 1
    clock.now += 5
    assert _meta_id(encryptor.encrypt(ITEM)) == "rot#0"  # still fresh
    clock.now += 5 + GRACE_SECONDS + 0.1  # past TTL and grace: blocking refresh
    v1 = encryptor.encrypt(ITEM)
    assert _meta_id(v1) == "rot#1"
    assert provider.current_version == 1
    # Old items still decrypt, with a fresh provider too.
    other = _encryptor(MostRecentProvider(meta_store=store, material_name="rot", ttl_seconds=10))
    assert encryptor.decrypt(v0) == other.decrypt(v0) == ITEM
    assert encryptor.decrypt(v1) == other.decrypt(v1) == ITEM


def test_refresh_clears_everything(store: MetaStore) -> None:
    provider = MostRecentProvider(meta_store=store, material_name="ref", ttl_seconds=3600)
    encryptor = _encryptor(provider)
    assert _meta_id(encryptor.encrypt(ITEM)) == "ref#0"
    store.new_version("ref")
    assert _meta_id(encryptor.encrypt(ITEM)) == "ref#0"
    provider.refresh()
    assert provider.current_version is None
    assert _meta_id(encryptor.encrypt(ITEM)) == "ref#1"


def test_grace_period_does_not_block(store: MetaStore) -> None:
    clock = FakeClock()
    provider = MostRecentProvider(meta_store=store, material_name="gr", ttl_seconds=10, clock=clock)
    encryptor = _encryptor(provider)
    encryptor.encrypt(ITEM)
    store.new_version("gr")
    clock.now += 10 + GRACE_SECONDS / 2  # in the grace period
    # Another caller is refreshing (holds the lock): this one keeps the cached version.
    with provider._lock:
        assert _meta_id(encryptor.encrypt(ITEM)) == "gr#0"
    # Nobody is refreshing: this caller refreshes.
    assert _meta_id(encryptor.encrypt(ITEM)) == "gr#1"


def test_after_the_grace_period_callers_wait_for_the_refresh(store: MetaStore) -> None:
    clock = FakeClock()
    provider = MostRecentProvider(meta_store=store, material_name="bl", ttl_seconds=10, clock=clock)
    encryptor = _encryptor(provider)
    encryptor.encrypt(ITEM)
    store.new_version("bl")
    clock.now += 10 + GRACE_SECONDS + 1
    result: list[str] = []
    started = threading.Event()

    def write() -> None:
        started.set()
        result.append(_meta_id(encryptor.encrypt(ITEM)))

    with provider._lock:
        thread = threading.Thread(target=write)
        thread.start()
        started.wait()
        thread.join(timeout=0.3)
        assert thread.is_alive()  # blocked behind the refresh in progress
        assert result == []
    thread.join()
    assert result == ["bl#1"]


def test_decrypt_uses_the_version_in_the_item_and_the_configured_name(store: MetaStore) -> None:
    writer = _encryptor(MostRecentProvider(meta_store=store, material_name="dec", ttl_seconds=0))
    v0 = writer.encrypt(ITEM)
    store.new_version("dec")
    v1 = writer.encrypt(ITEM)  # ttl 0: picks version 1 at once
    assert (_meta_id(v0), _meta_id(v1)) == ("dec#0", "dec#1")
    reader = MostRecentProvider(meta_store=store, material_name="dec", ttl_seconds=60)
    # The name in the item is ignored (as in the reference): only the version counts.
    md = decode_material_description(v1[MD]["B"])
    md["amzn-ddb-meta-id"] = "some other name#1"
    renamed = {**v1, MD: {"B": encode_material_description(md)}}
    assert _encryptor(reader).decrypt(renamed) == ITEM
    assert _encryptor(reader).decrypt(v0) == ITEM
    # Decrypt never creates a version.
    md["amzn-ddb-meta-id"] = "dec#7"
    with pytest.raises(NoKnownVersionError):
        _encryptor(reader).decrypt({**v1, MD: {"B": encode_material_description(md)}})
    assert store.versions("dec") == [0, 1]
    md["amzn-ddb-meta-id"] = "dec"
    with pytest.raises(InvalidMaterialDescriptionError):
        _encryptor(reader).decrypt({**v1, MD: {"B": encode_material_description(md)}})


def test_decrypt_cache_is_lru_bounded_and_ttl_bound(store: MetaStore) -> None:
    clock = FakeClock()
    for _ in range(3):
        store.new_version("lru")
    items = [_encryptor(store.provider("lru", v)).encrypt(ITEM) for v in range(3)]
    provider = MostRecentProvider(
        meta_store=store, material_name="lru", ttl_seconds=10, clock=clock, cache_size=2
    )
    loads: list[int] = []
    provider._meta_store = _Counting(store, loads)  # type: ignore[assignment]
    for stored in items + items[-1:]:
        assert _encryptor(provider).decrypt(stored) == ITEM
    assert loads == [0, 1, 2]  # the repeat of version 2 is served from the cache
    assert len(provider._cache) == 2
    assert _encryptor(provider).decrypt(items[0]) == ITEM  # evicted: loaded again
    assert loads == [0, 1, 2, 0]
    clock.now += 10 + GRACE_SECONDS + 1
    assert _encryptor(provider).decrypt(items[0]) == ITEM  # expired: loaded again
    assert loads == [0, 1, 2, 0, 0]


def test_decrypt_grace_period(store: MetaStore) -> None:
    clock = FakeClock()
    store.new_version("dg")
    stored = _encryptor(store.provider("dg", 0)).encrypt(ITEM)
    provider = MostRecentProvider(meta_store=store, material_name="dg", ttl_seconds=10, clock=clock)
    loads: list[int] = []
    provider._meta_store = _Counting(store, loads)  # type: ignore[assignment]
    assert _encryptor(provider).decrypt(stored) == ITEM
    clock.now += 10 + GRACE_SECONDS / 2
    with provider._lock:  # someone else is loading: use the cached version, do not wait
        assert _encryptor(provider).decrypt(stored) == ITEM
    assert loads == [0]
    assert _encryptor(provider).decrypt(stored) == ITEM  # nobody is: this caller reloads
    assert loads == [0, 0]


class _Counting:
    """Forwards to a MetaStore and records which versions are loaded."""

    def __init__(self, store: MetaStore, loads: list[int]) -> None:
        self._store = store
        self._loads = loads

    def provider(self, name: str, version: int) -> WrappedMaterialsProvider:
        self._loads.append(version)
        return self._store.provider(name, version)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_concurrent_first_writers_share_version_zero(
    dynamodb_client: DynamoDBClient, meta_table: str
) -> None:
    """Many processes start at once on a new material: one version 0, usable by all."""
    name = f"m-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(6)
    outputs: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def first_write() -> None:
        try:
            store = MetaStore(
                table_name=meta_table,
                materials_provider=_meta_provider(),
                dynamodb_client=dynamodb_client,
            )
            provider = MostRecentProvider(meta_store=store, material_name=name, ttl_seconds=60)
            barrier.wait()
            stored = _encryptor(provider).encrypt(ITEM)
            with lock:
                outputs.append(stored)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = MetaStore(
        table_name=meta_table, materials_provider=_meta_provider(), dynamodb_client=dynamodb_client
    )
    assert store.versions(name) == [0]
    reader = _encryptor(MostRecentProvider(meta_store=store, material_name=name, ttl_seconds=60))
    for stored in outputs:
        assert _meta_id(stored) == f"{name}#0"
        assert reader.decrypt(stored) == ITEM


def test_threads_encrypt_and_decrypt_during_rotation(store: MetaStore) -> None:
    provider = MostRecentProvider(meta_store=store, material_name="th", ttl_seconds=0.05)
    encryptor = _encryptor(provider)
    encryptor.encrypt(ITEM)  # version 0 exists before the threads start
    failures: list[BaseException] = []
    seen: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int) -> None:
        try:
            for i in range(25):
                item = {**ITEM, "pk": {"S": f"{n}-{i}"}}
                stored = encryptor.encrypt(item)
                with lock:
                    seen.add(_meta_id(stored))
                assert encryptor.decrypt(stored) == item
        except BaseException as exc:
            failures.append(exc)

    def rotator() -> None:
        while not stop.is_set():
            store.new_version("th")
            stop.wait(0.05)

    rotating = threading.Thread(target=rotator)
    rotating.start()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    rotating.join()
    assert failures == []
    assert len(seen) >= 1
    assert seen <= {f"th#{v}" for v in store.versions("th")}


def test_version_from_description() -> None:
    assert version_from_description({"amzn-ddb-meta-id": "name#12"}) == 12
    assert version_from_description({"amzn-ddb-meta-id": "#0"}) == 0
    for bad in (
        {},
        {"amzn-ddb-meta-id": "name"},
        {"amzn-ddb-meta-id": "a#b#1"},
        {"amzn-ddb-meta-id": "a#-1"},
    ):
        with pytest.raises(InvalidMaterialDescriptionError):
            version_from_description(bad)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(st.characters(codec="utf-8", exclude_characters="#"), min_size=1, max_size=20),
    secret=st.text(max_size=40),
)
def test_any_material_name_round_trips(store: MetaStore, name: str, secret: str) -> None:
    provider = MostRecentProvider(meta_store=store, material_name=name, ttl_seconds=60)
    item = {**ITEM, "secret": {"S": secret}}
    stored = _encryptor(provider).encrypt(item)
    assert _meta_id(stored) == f"{name}#{provider.current_version}"
    assert _encryptor(provider).decrypt(stored) == item


def test_repr_has_no_keys(store: MetaStore) -> None:
    provider = MostRecentProvider(meta_store=store, material_name="r", ttl_seconds=1)
    _encryptor(provider).encrypt(ITEM)
    text = repr(provider) + repr(store)
    assert "r" in text
    assert "bytes" not in text
    assert "\\x" not in text
