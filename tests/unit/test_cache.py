"""KmsDecryptCache and the private LruCache: bounds, TTL, use counts, threads, no leaks."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import ConfigurationError, KmsDecryptCache, SymmetricKey
from pynamodb_encryption.providers._cache import DerivedKeys, LruCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _keys(seed: int = 0) -> DerivedKeys:
    return DerivedKeys(
        encryption_key=SymmetricKey(bytes([seed]) * 32, "AES"),
        mac_key=SymmetricKey(bytes([seed + 1]) * 32, "HmacSHA256"),
    )


def _key(n: int = 0, *, table: str = "T") -> tuple[str, bytes, tuple[tuple[str, str], ...]]:
    return KmsDecryptCache.make_key("key-id", bytes([n]) * 8, {"*aws-kms-table*": table})


# --------------------------------------------------------------------------------------------
# LruCache


def test_lru_evicts_least_recently_used() -> None:
    cache: LruCache[int, str] = LruCache(2)
    cache.put(1, "a")
    cache.put(2, "b")
    assert cache.get(1) == "a"  # 1 is now the most recent
    cache.put(3, "c")
    assert cache.get(2) is None
    assert (cache.get(1), cache.get(3)) == ("a", "c")
    assert len(cache) == 2
    cache.evict(1)
    assert cache.get(1) is None
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize("capacity", [0, -1, True, 1.5])
def test_lru_capacity_validated(capacity: object) -> None:
    with pytest.raises(ConfigurationError):
        LruCache(capacity)  # type: ignore[arg-type]


@settings(max_examples=50)
@given(
    capacity=st.integers(1, 5),
    operations=st.lists(st.tuples(st.booleans(), st.integers(0, 8)), max_size=40),
)
def test_lru_matches_a_model(capacity: int, operations: list[tuple[bool, int]]) -> None:
    cache: LruCache[int, int] = LruCache(capacity)
    model: list[int] = []  # keys, least recent first
    for is_put, key in operations:
        if is_put:
            cache.put(key, key * 10)
            if key in model:
                model.remove(key)
            model.append(key)
            del model[: max(0, len(model) - capacity)]
        else:
            got = cache.get(key)
            if key in model:
                assert got == key * 10
                model.remove(key)
                model.append(key)
            else:
                assert got is None
        assert len(cache) == len(model) <= capacity


# --------------------------------------------------------------------------------------------
# KmsDecryptCache


def test_hit_and_miss() -> None:
    cache = KmsDecryptCache()
    assert cache.get(_key(1)) is None
    keys = _keys()
    cache.put(_key(1), keys)
    assert cache.get(_key(1)) is keys
    assert cache.get(_key(2)) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 2, 1)


def test_key_covers_key_id_blob_and_context() -> None:
    base = KmsDecryptCache.make_key("k", b"blob", {"a": "1", "b": "2"})
    assert base == KmsDecryptCache.make_key("k", b"blob", {"b": "2", "a": "1"})  # order-free
    assert base != KmsDecryptCache.make_key("other", b"blob", {"a": "1", "b": "2"})
    assert base != KmsDecryptCache.make_key("k", b"blob2", {"a": "1", "b": "2"})
    assert base != KmsDecryptCache.make_key("k", b"blob", {"a": "1", "b": "3"})
    assert base != KmsDecryptCache.make_key("k", b"blob", {"a": "1"})
    hash(base)


def test_ttl() -> None:
    clock = FakeClock()
    cache = KmsDecryptCache(ttl_seconds=10, clock=clock)
    cache.put(_key(), _keys())
    clock.now += 9.99
    assert cache.get(_key()) is not None
    clock.now += 0.01
    assert cache.get(_key()) is None
    assert len(cache) == 0
    assert cache.stats().evictions == 1


def test_ttl_counts_from_the_put_not_the_last_hit() -> None:
    clock = FakeClock()
    cache = KmsDecryptCache(ttl_seconds=10, clock=clock)
    cache.put(_key(), _keys())
    for _ in range(5):
        clock.now += 2.5
        hit = cache.get(_key())
    assert hit is None  # 12.5 s after the KMS call, however often it was used


def test_max_uses() -> None:
    cache = KmsDecryptCache(max_uses=2)
    cache.put(_key(), _keys())
    assert cache.get(_key()) is not None
    assert cache.get(_key()) is not None
    assert cache.get(_key()) is None
    cache.put(_key(), _keys())  # a new KMS call resets the count
    assert cache.get(_key()) is not None


def test_max_entries_evicts_least_recently_used() -> None:
    cache = KmsDecryptCache(max_entries=2)
    cache.put(_key(1), _keys(1))
    cache.put(_key(2), _keys(2))
    assert cache.get(_key(1)) is not None
    cache.put(_key(3), _keys(3))
    assert cache.get(_key(2)) is None
    assert cache.get(_key(1)) is not None
    assert cache.get(_key(3)) is not None
    assert len(cache) == 2


def test_clear() -> None:
    cache = KmsDecryptCache()
    cache.put(_key(), _keys())
    cache.get(_key())
    cache.clear()
    assert len(cache) == 0
    assert cache.get(_key()) is None
    assert cache.stats().hits == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_entries": 0},
        {"max_entries": True},
        {"max_uses": 0},
        {"ttl_seconds": 0},
        {"ttl_seconds": -1.0},
        {"ttl_seconds": float("nan")},
        {"ttl_seconds": "10"},
    ],
)
def test_arguments_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        KmsDecryptCache(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_no_key_material() -> None:
    cache = KmsDecryptCache(max_entries=5)
    secret = bytes(range(7, 39))
    cache.put(
        KmsDecryptCache.make_key("k", b"BLOBBYTES", {"pk": "PARTITION-VALUE"}),
        DerivedKeys(SymmetricKey(secret, "AES"), SymmetricKey(secret, "HmacSHA256")),
    )
    text = repr(cache) + repr(cache.stats())
    assert "size=1" in text
    for leak in (secret.hex(), repr(secret), "BLOBBYTES", "PARTITION-VALUE"):
        assert leak not in text
    assert secret.hex() not in repr(_keys()) + repr(cache.get(_key()))


def test_threads_never_exceed_bounds_or_lose_counts() -> None:
    cache = KmsDecryptCache(max_entries=16, max_uses=1_000_000)
    keys = _keys()
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(500):
                k = _key((i + offset) % 40)
                if cache.get(k) is None:
                    cache.put(k, keys)
                assert len(cache) <= 16
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stats = cache.stats()
    assert stats.hits + stats.misses == 8 * 500
    assert stats.size <= 16
