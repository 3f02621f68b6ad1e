"""MostRecentProvider through a meta table outage (issue 9, point 6), on a real DynamoDB API.

The outage is injected with a botocore ``before-send`` hook on the meta store's own client
(a 500 or a refused connection for every request while it is on); time is a fake clock, so a
simulated outage of several TTLs takes a fraction of a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    MetaStore,
    MostRecentProvider,
    NoKnownVersionError,
    ProviderError,
    SymmetricKey,
    WrappedMaterialsProvider,
)

TTL = 10.0
OUTAGE_GRACE = 30.0
RETRY = 1.0
STEP = 0.5  # fake seconds between two calls
SECRET = "the plaintext"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Outage:
    """A switchable failure of every request a client sends, counting what it refuses."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.on = False
        self.refused = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        if not self.on:
            return None
        self.refused += 1
        if self.mode == "connection":
            raise EndpointConnectionError(endpoint_url=request.url)
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"x"}'
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 500, headers, _Raw(body))


def _meta_provider() -> WrappedMaterialsProvider:
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(bytes(range(32)), "AES"),
        signing_key=SymmetricKey(bytes(range(32, 64)), "HmacSHA256"),
    )


@pytest.fixture(params=["http-500", "connection"])
def outage(request: pytest.FixtureRequest, ddb_endpoint: str) -> Iterator[tuple[Any, Outage]]:
    # Its own client, without retries, so that the hook sees every attempt and nothing sleeps.
    client = boto3.client(
        "dynamodb",
        endpoint_url=ddb_endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    hook = Outage(request.param)
    client.meta.events.register("before-send.dynamodb", hook)
    try:
        yield client, hook
    finally:
        client.meta.events.unregister("before-send.dynamodb", hook)


@pytest.fixture
def store(outage: tuple[Any, Outage], table_name: str) -> Iterator[MetaStore]:
    client, _ = outage
    MetaStore.create_table(client, table_name)
    yield MetaStore(
        table_name=table_name, materials_provider=_meta_provider(), dynamodb_client=client
    )
    with contextlib.suppress(Exception):
        client.delete_table(TableName=table_name)


def _encryptor(provider: Any) -> ItemEncryptor:
    return ItemEncryptor(
        table_name="Data",
        partition_key_name="pk",
        attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=provider,
    )


def simulate(
    encryptor: ItemEncryptor, clock: FakeClock, stored: dict[str, Any], seconds: float
) -> tuple[int, int, int]:
    """One encrypt and one decrypt every STEP fake seconds; returns (calls of each kind,
    failed encrypts, failed decrypts)."""
    calls = failed_encrypts = failed_decrypts = 0
    end = clock.now + seconds
    while clock.now < end:
        clock.now += STEP
        calls += 1
        try:
            encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
        except ProviderError:
            failed_encrypts += 1
        try:
            assert encryptor.decrypt(stored)["secret"] == {"S": SECRET}
        except ProviderError:
            failed_decrypts += 1
    return calls, failed_encrypts, failed_decrypts


def test_outage_of_six_ttls_keeps_serving_and_recovers(
    store: MetaStore, outage: tuple[Any, Outage], caplog: pytest.LogCaptureFixture
) -> None:
    _, hook = outage
    clock = FakeClock()
    provider = MostRecentProvider(
        meta_store=store,
        material_name="orders",
        ttl_seconds=TTL,
        clock=clock,
        outage_grace_seconds=OUTAGE_GRACE,
        outage_retry_seconds=RETRY,
    )
    encryptor = _encryptor(provider)
    stored = encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})

    hook.on = True
    with caplog.at_level(logging.DEBUG, logger="pynamodb_encryption"):
        calls, failed_encrypts, failed_decrypts = simulate(encryptor, clock, stored, 6 * TTL)
    print(
        f"\noutage of 6 x TTL ({hook.mode}): {calls} encrypts, {failed_encrypts} failed; "
        f"{calls} decrypts, {failed_decrypts} failed; {hook.refused} meta store requests"
    )
    # Encrypts go on with the cached version until TTL + grace after it was last confirmed
    # (40 s of the 60 s), then fail; decrypts never fail.
    assert failed_decrypts == 0
    expected_failures = int((6 * TTL - TTL - OUTAGE_GRACE) / STEP)
    assert expected_failures - 2 <= failed_encrypts <= expected_failures + 2
    # Retries are rate-limited: at most one meta store attempt per RETRY seconds.
    assert 0 < hook.refused <= 6 * TTL / RETRY + 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert SECRET not in caplog.text

    # The table is back: the next due retry ends the outage without any restart.
    hook.on = False
    store.new_version("orders")  # a rotation during the outage is picked up on recovery
    clock.now += RETRY
    assert simulate(encryptor, clock, stored, TTL)[1:] == (0, 0)
    assert provider.current_version == 1


def test_no_grace_fails_once_the_ttl_is_over(store: MetaStore, outage: tuple[Any, Outage]) -> None:
    _, hook = outage
    clock = FakeClock()
    provider = MostRecentProvider(
        meta_store=store,
        material_name="strict",
        ttl_seconds=TTL,
        clock=clock,
        outage_grace_seconds=0,
    )
    encryptor = _encryptor(provider)
    stored = encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
    hook.on = True
    clock.now += TTL + 1
    with pytest.raises(ProviderError):
        encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
    assert encryptor.decrypt(stored)["secret"] == {"S": SECRET}


def test_a_deleted_version_is_dropped_not_served(
    store: MetaStore, outage: tuple[Any, Outage]
) -> None:
    client, _ = outage
    clock = FakeClock()
    provider = MostRecentProvider(
        meta_store=store, material_name="revoked", ttl_seconds=TTL, clock=clock
    )
    encryptor = _encryptor(provider)
    stored = encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
    client.delete_item(TableName=store.table_name, Key={"N": {"S": "revoked"}, "V": {"N": "0"}})
    clock.now += TTL + 1
    with pytest.raises(NoKnownVersionError):
        encryptor.decrypt(stored)


def test_threads_never_queue_behind_a_failing_meta_store(
    store: MetaStore, outage: tuple[Any, Outage]
) -> None:
    """8 threads encrypt during an outage whose requests each hang 50 ms before failing: at
    most one caller at a time pays for a retry; the others go on with the cached version."""
    _, hook = outage
    clock = FakeClock()
    provider = MostRecentProvider(
        meta_store=store, material_name="busy", ttl_seconds=TTL, clock=clock, outage_retry_seconds=0
    )
    encryptor = _encryptor(provider)
    encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
    slow = threading.Event()
    in_flight = [0, 0]  # now, most at once
    refused_before = hook.refused
    lock = threading.Lock()
    inner = hook.__call__

    def hanging(request: Any, **kwargs: Any) -> Any:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        slow.wait(0.05)
        with lock:
            in_flight[0] -= 1
        return inner(request, **kwargs)

    client, _ = outage
    client.meta.events.unregister("before-send.dynamodb", hook)
    client.meta.events.register("before-send.dynamodb", hanging)
    hook.on = True
    # A first failure starts the outage; from then on nobody waits for the meta store.
    clock.now += TTL + 1
    encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                encryptor.encrypt({"pk": {"S": "k"}, "secret": {"S": SECRET}})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        client.meta.events.unregister("before-send.dynamodb", hanging)
        client.meta.events.register("before-send.dynamodb", hook)
    assert errors == []
    assert in_flight[1] == 1
    assert hook.refused > refused_before + 1  # retries did happen, one at a time
