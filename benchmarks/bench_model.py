"""EncryptedModel save()/get() against plain PynamoDB and the reference EncryptedTable.

Same server, same table shape, same items:

- ``plain``: a plain PynamoDB ``Model`` (no encryption: the floor);
- ``encrypted``: ``EncryptedModel`` with every non-key attribute ENCRYPT_AND_SIGN and the
  wrapped provider (a fresh AES-256 content key per item, AES key wrap, HMAC-SHA256);
- ``reference``: ``dynamodb-encryption-sdk`` 3.3.0 ``EncryptedTable`` put_item/get_item with the
  equivalent wrapped provider and actions.

Two items: the representative one (partition S + sort N + 10 attributes: strings, numbers, a
1 KiB binary, a bool, a list, a nested map, a string set) and a ~300 KiB one (the same plus a
300 KiB binary). Round trips are timed in interleaved rounds; the report gives medians, p95
and ratios to plain PynamoDB. A second table times the client-side work alone (no server):
``serialize()`` + encrypt, and ``from_raw_data()`` + decrypt.

Usage::

    python benchmarks/bench_model.py                   # starts DynamoDB Local (npm jar + java)
    python benchmarks/bench_model.py --backend moto    # embedded moto instead
    python benchmarks/bench_model.py --endpoint-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.models import Model

import pynamodb_encryption as pe
from _common import (
    MAC_KEY,
    WRAPPING_KEY,
    Case,
    environment_line,
    fmt_ratio,
    fmt_us,
    measure,
    render_table,
)
from pynamodb_encryption.orm import EncryptedModel

REPO_ROOT = Path(__file__).resolve().parents[1]
LARGE_BYTES = 300 * 1024


# ---------------------------------------------------------------------------------------------
# Servers


@contextlib.contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """Yield (url, label): the given endpoint, or a server started for the run."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if args.endpoint_url:
        yield args.endpoint_url, f"given endpoint {args.endpoint_url}"
        return
    if args.backend == "moto":
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            yield url, "embedded moto (serialized)"
        return
    # DynamoDB Local, started the way the test suite does it (tests/_servers.py).
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from _servers import start_dynamodb_local

    server = start_dynamodb_local()
    try:
        yield server.url, "DynamoDB Local 3.3.0 (in-memory, java)"
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# Models and items


class _Fields:
    """The attributes shared by the plain and the encrypted model."""

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    address = UnicodeAttribute()
    balance = NumberAttribute()
    age = NumberAttribute()
    avatar = BinaryAttribute(legacy_encoding=False)
    active = BooleanAttribute()
    history = ListAttribute[Any]()
    profile = MapAttribute[str, Any]()
    roles = UnicodeSetAttribute()
    blob = BinaryAttribute(null=True, legacy_encoding=False)


def build_models(table: str, host: str, provider: Any) -> tuple[type[Model], type[Model]]:
    namespace = {k: v for k, v in vars(_Fields).items() if not k.startswith("__")}

    class PlainMeta:
        table_name = table + "-plain"

    class EncMeta:
        table_name = table + "-enc"
        materials_provider = provider
        default_action = pe.CryptoAction.ENCRYPT_AND_SIGN

    plain = type("PlainRecord", (Model,), {**_copy(namespace), "Meta": PlainMeta})
    enc = type("EncryptedRecord", (EncryptedModel,), {**_copy(namespace), "Meta": EncMeta})
    for model in (plain, enc):
        model.Meta.host = host  # type: ignore[attr-defined]
        model._connection = None
    return plain, enc  # type: ignore[return-value]


def _copy(namespace: dict[str, Any]) -> dict[str, Any]:
    import copy

    return {k: copy.deepcopy(v) for k, v in namespace.items()}


def python_item(large: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": "customer#000123",
        "sk": 1700000000123,
        "name": "Ada Lovelace",
        "email": "ada.lovelace@example.com",
        "address": "12 St James's Square, London SW1Y 4JH",
        "balance": 1234.56,
        "age": 36,
        "avatar": bytes((i * 7 + 3) % 256 for i in range(1024)),
        "active": True,
        "history": ["signup", 3, "upgrade"],
        "profile": {
            "city": "London",
            "zip": "SW1Y 4JH",
            "score": 98.5,
            "prefs": {"lang": "en-GB", "tz": "Europe/London"},
        },
        "roles": {"admin", "editor", "viewer"},
    }
    if large:
        item["blob"] = os.urandom(LARGE_BYTES)
    return item


def reference_item(item: dict[str, Any]) -> dict[str, Any]:
    """The same item for boto3's resource layer (Decimal numbers)."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return Decimal(str(value))
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in item.items()}


# ---------------------------------------------------------------------------------------------
# The reference


def reference_table(url: str, table: str) -> Any:
    import boto3
    from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
    from dynamodb_encryption_sdk.encrypted.table import EncryptedTable
    from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
    from dynamodb_encryption_sdk.material_providers.wrapped import (
        WrappedCryptographicMaterialsProvider,
    )

    def jce(key: bytes, algorithm: str) -> Any:
        return JceNameLocalDelegatedKey(
            key=key,
            algorithm=algorithm,
            key_type=EncryptionKeyType.SYMMETRIC,
            key_encoding=KeyEncodingType.RAW,
        )

    provider = WrappedCryptographicMaterialsProvider(
        signing_key=jce(MAC_KEY, "HmacSHA256"),
        wrapping_key=jce(WRAPPING_KEY, "AES"),
        unwrapping_key=jce(WRAPPING_KEY, "AES"),
    )
    resource = boto3.resource("dynamodb", endpoint_url=url, region_name="us-east-1")
    resource.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    ).wait_until_exists()
    # Default actions: ENCRYPT_AND_SIGN, keys lowered to SIGN_ONLY (as the model does).
    return EncryptedTable(table=resource.Table(table), materials_provider=provider)


# ---------------------------------------------------------------------------------------------
# Run


def measure_rotating(cases: list[Case], *, number: int, rounds: int, warmup: int) -> None:
    """Like ``_common.measure``, but the order of the contenders rotates every round.

    Against a server a fixed order is biased: the first contender of each round was measured
    at 1.5-2x the others on DynamoDB Local, whoever it was (server-side effects of switching
    tables after a pause). Rotating spreads that evenly.
    """
    for case in cases:
        for _ in range(warmup):
            case.func()
    for index in range(rounds):
        shift = index % len(cases)
        for case in cases[shift:] + cases[:shift]:
            measure([case], number=number, rounds=1, warmup=0)


def _cases(
    label: str, plain: Any, enc: Any, ref: Any, item: dict[str, Any]
) -> tuple[list[Case], list[Case]]:
    plain_obj = plain(**item)
    enc_obj = enc(**item)
    ref_item = reference_item(item)
    key = {"pk": item["pk"], "sk": Decimal(item["sk"])}
    plain_obj.save()
    enc_obj.save()
    ref.put_item(Item=ref_item)
    assert enc.get(item["pk"], item["sk"]).name == item["name"]
    assert ref.get_item(Key=key)["Item"]["name"] == item["name"]
    saves = [
        Case(f"{label} plain PynamoDB save()", plain_obj.save),
        Case(f"{label} EncryptedModel save()", enc_obj.save),
        Case(f"{label} reference put_item", lambda: ref.put_item(Item=ref_item)),
    ]
    gets = [
        Case(f"{label} plain PynamoDB get()", lambda: plain.get(item["pk"], item["sk"])),
        Case(f"{label} EncryptedModel get()", lambda: enc.get(item["pk"], item["sk"])),
        Case(f"{label} reference get_item", lambda: ref.get_item(Key=key)),
    ]
    return saves, gets


def _local_cases(label: str, enc: Any, plain: Any, item: dict[str, Any]) -> list[Case]:
    plain_obj = plain(**item)
    enc_obj = enc(**item)
    stored = enc_obj.serialize()
    raw_plain = plain_obj.serialize()
    return [
        Case(f"{label} plain serialize()", plain_obj.serialize),
        Case(f"{label} encrypted serialize()", enc_obj.serialize),
        Case(f"{label} plain from_raw_data()", lambda: plain.from_raw_data(raw_plain)),
        Case(f"{label} encrypted from_raw_data()", lambda: enc.from_raw_data(stored)),
    ]


def _rows(groups: list[list[Case]]) -> list[list[str]]:
    rows = []
    for group in groups:
        base = group[0].median_us
        for case in group:
            rows.append(
                [
                    case.name,
                    fmt_us(case.median_us),
                    fmt_us(case.p95_us),
                    fmt_ratio(case.median_us / base),
                ]
            )
    return rows


def run(args: argparse.Namespace) -> str:
    provider = pe.WrappedMaterialsProvider(
        wrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
        signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
    )
    out = [environment_line()]
    with endpoint(args) as (url, label):
        out.append(f"server: {label}")
        table = f"bench-{uuid.uuid4().hex[:8]}"
        plain, enc = build_models(table, url, provider)
        for model in (plain, enc):
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        ref = reference_table(url, table + "-ref")
        groups: list[list[Case]] = []
        local: list[list[Case]] = []
        for size_label, large in (("representative", False), ("300 KiB", True)):
            item = python_item(large)
            saves, gets = _cases(size_label, plain, enc, ref, item)
            number = args.number if not large else max(1, args.number // 4)
            measure_rotating(saves, number=number, rounds=args.rounds, warmup=args.warmup)
            measure_rotating(gets, number=number, rounds=args.rounds, warmup=args.warmup)
            groups += [saves, gets]
            cases = _local_cases(size_label, enc, plain, item)
            measure_rotating(cases, number=number * 5, rounds=args.rounds, warmup=args.warmup)
            local += [cases[:2], cases[2:]]
    headers = ["round trip", "median µs", "p95 µs", "vs plain"]
    out.append(render_table(headers, _rows(groups)))
    out.append("")
    out.append("Client-side work only (no server):")
    out.append(render_table(["operation", "median µs", "p95 µs", "vs plain"], _rows(local)))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", help="use this DynamoDB endpoint (no server started)")
    parser.add_argument("--backend", choices=("ddblocal", "moto"), default="ddblocal")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--number", type=int, default=20, help="calls per round and contender")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    print(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
