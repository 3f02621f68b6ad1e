"""DB-ESDK ``EncryptedModel`` save()/get() against plain PynamoDB on one server.

Same server, same table shape, same representative item as ``bench_model.py`` (partition S +
sort N + 10 attributes, every non-key attribute ENCRYPT_AND_SIGN), with ``Meta.keyring`` a
hierarchical keyring whose branch key cache is warm (a `StaticKeyStore`: after the first call no
key-store read happens, as with AWS's key store within the cache TTL). Both DB-ESDK suites:

- ``ECDSA``: the default suite (HMAC-SHA384 footer tag and an ECDSA P-384 signature);
- ``HMAC only``: ``ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384``.

Round trips are timed in interleaved rounds with a rotating order; the report gives medians,
p95 and ratios to plain PynamoDB, then the client-side work alone (no server).

Usage::

    python benchmarks/bench_dbesdk_model.py                # starts DynamoDB Local
    python benchmarks/bench_dbesdk_model.py --backend moto
    python benchmarks/bench_dbesdk_model.py --endpoint-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import copy
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pynamodb.models import Model

from _common import Case, environment_line, render_table
from bench_model import _Fields, _rows, endpoint, measure_rotating, python_item
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    HierarchicalKeyring,
    StaticKeyStore,
)
from pynamodb_encryption.orm import EncryptedModel

BRANCH_KEY = bytes(range(32))
BEACON_KEY = bytes(range(32, 64))
SUITES = {
    "ECDSA": DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384,
    "HMAC only": DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_SYMSIG_HMAC_SHA384,
}


def keyring() -> HierarchicalKeyring:
    store = StaticKeyStore(
        branch_key_id="bench-branch",
        branch_key_version=str(uuid.UUID(int=1)),
        branch_key=BRANCH_KEY,
        beacon_key=BEACON_KEY,
    )
    return HierarchicalKeyring(key_store=store, branch_key_id="bench-branch")


def build_models(table: str, host: str, suites: list[str]) -> list[tuple[str, type[Model]]]:
    namespace = {k: v for k, v in vars(_Fields).items() if not k.startswith("__")}

    class PlainMeta:
        table_name = table + "-plain"

    models: list[tuple[str, type[Model]]] = [
        (
            "plain PynamoDB",
            type("PlainRecord", (Model,), {**copy.deepcopy(namespace), "Meta": PlainMeta}),
        )
    ]
    for label, suite in SUITES.items():
        if label.split()[0].lower() not in suites:
            continue
        meta = type(
            "Meta",
            (),
            {
                "table_name": f"{table}-{label.split()[0].lower()}",
                "keyring": keyring(),
                "default_action": CryptoAction.ENCRYPT_AND_SIGN,
                "algorithm_suite": suite,
            },
        )
        model = type(
            f"Dbe{label.split()[0]}Record",
            (EncryptedModel,),
            {**copy.deepcopy(namespace), "Meta": meta},
        )
        models.append((f"DB-ESDK model ({label})", model))
    for _, model in models:
        model.Meta.host = host  # type: ignore[attr-defined]
        model._connection = None
    return models


def run(args: argparse.Namespace) -> str:
    out = [environment_line()]
    with endpoint(args) as (url, label):
        out.append(f"server: {label}")
        models = build_models(f"bench-{uuid.uuid4().hex[:8]}", url, args.suites.split(","))
        item = python_item(False)
        saves: list[Case] = []
        gets: list[Case] = []
        local_save: list[Case] = []
        local_get: list[Case] = []
        for name, model in models:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            obj = model(**item)
            obj.save()  # warms the branch key cache
            got = model.get(item["pk"], item["sk"])
            assert got.name == item["name"], name
            saves.append(Case(f"{name} save()", obj.save))
            gets.append(Case(f"{name} get()", lambda m=model: m.get(item["pk"], item["sk"])))
            stored = obj.serialize()
            local_save.append(Case(f"{name} serialize()", obj.serialize))
            local_get.append(
                Case(f"{name} from_raw_data()", lambda m=model, s=stored: m.from_raw_data(s))
            )
        measure_rotating(saves, number=args.number, rounds=args.rounds, warmup=args.warmup)
        measure_rotating(gets, number=args.number, rounds=args.rounds, warmup=args.warmup)
        measure_rotating(local_save, number=args.number * 5, rounds=args.rounds, warmup=args.warmup)
        measure_rotating(local_get, number=args.number * 5, rounds=args.rounds, warmup=args.warmup)
    out.append(
        render_table(["round trip", "median µs", "p95 µs", "vs plain"], _rows([saves, gets]))
    )
    out.append("")
    out.append("Client-side work only (no server):")
    out.append(
        render_table(
            ["operation", "median µs", "p95 µs", "vs plain"], _rows([local_save, local_get])
        )
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", help="use this DynamoDB endpoint (no server started)")
    parser.add_argument("--backend", choices=("ddblocal", "moto"), default="ddblocal")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--number", type=int, default=20, help="calls per round and contender")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--suites",
        default="ecdsa,hmac",
        help="comma-separated: ecdsa, hmac (one of them gives an A/B run against plain)",
    )
    args = parser.parse_args(argv)
    print(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
