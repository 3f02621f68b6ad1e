"""Helpers to load the reference library's published test vectors and check items against them.

The vectors ship in the ``dynamodb-encryption-sdk`` sdist (``test/vectors``); the Java library
carries an identical copy. This module only reads them: obtaining the files is the job of
:func:`ensure_reference_vectors` (called by the ``reference_vectors_dir`` fixture).

Reusable by other interop/functional tests (a DynamoDB-backed most-recent provider test, for
instance): :func:`load_scenarios`, :func:`load_key_specs`, :func:`build_provider`,
:func:`meta_item_context`, :func:`provider_from_meta_item`, :func:`check_data_items`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from _sdist import SdistUnavailableError, download_sdist, extract_members
from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    RsaPrivateKey,
    RsaPublicKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
    decrypt_item,
)
from pynamodb_encryption.core import MaterialsProvider
from pynamodb_encryption.core._md import MD_META_ID, decode_material_description

REFERENCE_DISTRIBUTION = "dynamodb-encryption-sdk"
REFERENCE_VERSION = "3.3.0"
SDIST_NAME = f"{REFERENCE_DISTRIBUTION}-{REFERENCE_VERSION}.tar.gz"
#: Number of scenarios that need no network (no AWS KMS); see the wire-format notes, §7.
OFFLINE_SCENARIOS = 18
#: Items each offline scenario must check: 13 in ``TableName`` and 3 in ``HashKeyOnly``.
ITEMS_PER_SCENARIO = 16

ACTION_NAMES = {
    "encrypt": CryptoAction.ENCRYPT_AND_SIGN,
    "sign": CryptoAction.SIGN_ONLY,
    "nothing": CryptoAction.DO_NOTHING,
}
MD_ATTRIBUTE = "*amzn-ddb-map-desc*"


class VectorsUnavailableError(RuntimeError):
    """The sdist could not be downloaded or does not hold the vectors."""


# -------------------------------------------------------------------------------------------
# Obtaining the files


def ensure_reference_vectors(cache_dir: Path) -> Path:
    """Return the ``test/vectors`` directory of the reference sdist, downloading it once.

    The sdist is fetched with pip (``--no-binary :all:`` so PyPI's source archive is used) into
    ``cache_dir`` and extracted next to it; later calls reuse both.

    Raises:
        VectorsUnavailableError: pip failed (offline?) or the archive lacks the vectors.
    """
    override = os.environ.get("PYNAMODB_ENCRYPTION_REFERENCE_VECTORS")
    if override:
        path = Path(override)
        if not (path / "encrypted_item" / "scenarios.json").is_file():
            raise VectorsUnavailableError(f"{path} does not hold the reference test vectors")
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    extracted = cache_dir / f"vectors-{REFERENCE_VERSION}"
    if (extracted / "encrypted_item" / "scenarios.json").is_file():
        return extracted
    archive = cache_dir / SDIST_NAME
    if not archive.is_file():
        _download_sdist(cache_dir)
    _extract_vectors(archive, extracted)
    return extracted


def _download_sdist(cache_dir: Path) -> None:
    try:
        download_sdist(REFERENCE_DISTRIBUTION, REFERENCE_VERSION, cache_dir)
    except SdistUnavailableError as exc:
        raise VectorsUnavailableError(str(exc)) from exc


def _extract_vectors(archive: Path, destination: Path) -> None:
    prefix = f"{REFERENCE_DISTRIBUTION}-{REFERENCE_VERSION}/test/vectors/"
    try:
        extract_members(archive, prefix, destination)
    except SdistUnavailableError as exc:
        raise VectorsUnavailableError(str(exc)) from exc


# -------------------------------------------------------------------------------------------
# DynamoDB JSON as stored in the vector files (B and BS base64)


def decode_ddb_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """A vector-file DynamoDB-JSON value with its ``B``/``BS`` members decoded to bytes."""
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if tag == "L":
        return {"L": [decode_ddb_value(v) for v in inner]}
    if tag == "M":
        return {"M": {k: decode_ddb_value(v) for k, v in inner.items()}}
    return {tag: inner}


def decode_ddb_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: decode_ddb_value(value) for name, value in item.items()}


def comparable(value: Mapping[str, Any]) -> Any:
    """A DynamoDB-JSON value in a form where ``==`` means "the same DynamoDB value":
    numbers as ``Decimal`` (``"15.0" == "15"``), sets unordered, types kept apart."""
    ((tag, inner),) = value.items()
    if tag == "N":
        return ("N", Decimal(inner))
    if tag == "NS":
        return ("NS", frozenset(Decimal(v) for v in inner))
    if tag == "SS":
        return ("SS", frozenset(inner))
    if tag == "BS":
        return ("BS", frozenset(bytes(v) for v in inner))
    if tag == "B":
        return ("B", bytes(inner))
    if tag == "L":
        return ("L", tuple(comparable(v) for v in inner))
    if tag == "M":
        return ("M", {k: comparable(v) for k, v in inner.items()})
    return (tag, inner)


def comparable_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: comparable(value) for name, value in item.items()}


def load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def resolve_file(base: Path, reference: str) -> Path:
    """``file://x.json`` relative to ``base`` (the ``encrypted_item`` directory)."""
    if not reference.startswith("file://"):
        raise ValueError(f"unexpected file reference {reference!r}")
    return base / reference[len("file://") :]


# -------------------------------------------------------------------------------------------
# Keys and scenarios


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One entry of ``keys.json`` (raw material, not a live key object)."""

    name: str
    material: bytes
    algorithm: str
    kind: str  # symmetric | public | private


def load_key_specs(vectors_dir: Path) -> dict[str, KeySpec]:
    """The local keys of ``encrypted_item/keys.json`` (KMS key ids are left out)."""
    raw = load_json(vectors_dir / "encrypted_item" / "keys.json")
    specs = {}
    for name, entry in raw.items():
        if "material" not in entry:
            continue
        specs[name] = KeySpec(
            name=name,
            material=base64.b64decode(entry["material"]),
            algorithm=entry["algorithm"],
            kind=entry["type"],
        )
    return specs


def make_key(spec: KeySpec) -> SymmetricKey | RsaPublicKey | RsaPrivateKey:
    if spec.kind == "symmetric":
        return SymmetricKey(spec.material, spec.algorithm)
    if spec.kind == "public":
        return RsaPublicKey.from_der(spec.material, spec.algorithm)
    if spec.kind == "private":
        return RsaPrivateKey.from_der(spec.material, spec.algorithm)
    raise ValueError(f"unknown key type {spec.kind!r}")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Which provider and which named keys a scenario (or its meta store) uses."""

    provider: str  # static | wrapped | awskms | most_recent
    decrypt: str
    verify: str
    encrypt: str
    sign: str

    @classmethod
    def from_json(cls, provider: str, keys: Mapping[str, str]) -> ProviderSpec:
        return cls(
            provider=provider,
            decrypt=keys["decrypt"],
            verify=keys["verify"],
            encrypt=keys.get("encrypt", keys["decrypt"]),
            sign=keys.get("sign", keys["verify"]),
        )


@dataclass(frozen=True, slots=True)
class MetastoreSpec:
    table_name: str
    provider: ProviderSpec
    ciphertext: Path


@dataclass(frozen=True, slots=True)
class Scenario:
    """One entry of ``scenarios.json``."""

    id: str
    version: str
    provider: ProviderSpec
    plaintext: Path
    ciphertext: Path
    network: bool
    material_name: str | None = None
    metastore: MetastoreSpec | None = None


def load_scenarios(vectors_dir: Path) -> list[Scenario]:
    base = vectors_dir / "encrypted_item"
    raw = load_json(base / "scenarios.json")
    scenarios = []
    for entry in raw["scenarios"]:
        ciphertext = resolve_file(base, entry["ciphertext"])
        metastore = None
        if "metastore" in entry:
            meta = entry["metastore"]
            metastore = MetastoreSpec(
                table_name=meta["table_name"],
                provider=ProviderSpec.from_json(meta["provider"], meta["keys"]),
                ciphertext=resolve_file(base, meta["ciphertext"]),
            )
        keys = entry.get("keys", {"decrypt": "", "verify": ""})
        scenarios.append(
            Scenario(
                id=f"{ciphertext.parent.name}/{ciphertext.stem}",
                version=entry["version"],
                provider=ProviderSpec.from_json(entry["provider"], keys),
                plaintext=resolve_file(base, entry["plaintext"]),
                ciphertext=ciphertext,
                network=bool(entry["network"]),
                material_name=entry.get("material_name"),
                metastore=metastore,
            )
        )
    return scenarios


def build_provider(spec: ProviderSpec, keys: Mapping[str, KeySpec]) -> MaterialsProvider:
    """A :class:`StaticMaterialsProvider` or :class:`WrappedMaterialsProvider` for a spec,
    following §7 of the wire-format notes (RSA verification uses the sign key's public half)."""
    decrypt = make_key(keys[spec.decrypt])
    encrypt = make_key(keys[spec.encrypt])
    verify = make_key(keys[spec.verify])
    sign = make_key(keys[spec.sign])
    verification = verify.public_key() if isinstance(verify, RsaPrivateKey) else verify
    assert not isinstance(verification, RsaPrivateKey)
    assert isinstance(sign, (SymmetricKey, RsaPrivateKey))
    if spec.provider == "static":
        assert isinstance(encrypt, SymmetricKey)
        assert isinstance(decrypt, SymmetricKey)
        return StaticMaterialsProvider(
            encryption_key=encrypt,
            decryption_key=decrypt,
            signing_key=sign,
            verification_key=verification,
        )
    if spec.provider == "wrapped":
        assert not isinstance(decrypt, RsaPublicKey)
        return WrappedMaterialsProvider(
            wrapping_key=encrypt,
            unwrapping_key=decrypt,
            signing_key=sign,
            verification_key=verification,
        )
    raise ValueError(f"provider {spec.provider!r} needs the network or a meta store")


# -------------------------------------------------------------------------------------------
# Most recent provider: the meta store items


def meta_item_context(table_name: str) -> dict[str, Any]:
    """Keyword arguments of :func:`decrypt_item` for a meta-store item."""
    return {
        "table_name": table_name,
        "partition_key_name": "N",
        "sort_key_name": "V",
        "attribute_actions": AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
    }


def _text(value: Mapping[str, Any]) -> str:
    raw = value.get("B", value.get("S"))
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def provider_from_meta_item(decrypted: Mapping[str, Any]) -> WrappedMaterialsProvider:
    """The provider a decrypted meta-store item describes: its ``enc`` key wraps content keys
    (``encAlg``, AESWrap) and its ``int`` key signs (``intAlg``)."""
    wrapping = SymmetricKey(bytes(decrypted["enc"]["B"]), _text(decrypted["encAlg"]))
    signing = SymmetricKey(bytes(decrypted["int"]["B"]), _text(decrypted["intAlg"]))
    name = decrypted["N"]["S"]
    version = decrypted["V"]["N"]
    return WrappedMaterialsProvider(
        wrapping_key=wrapping,
        unwrapping_key=wrapping,
        signing_key=signing,
        material_description={MD_META_ID: f"{name}#{version}"},
    )


def meta_providers(scenario: Scenario, keys: Mapping[str, KeySpec]) -> dict[str, Any]:
    """``meta-id`` (``name#version``) -> provider, by decrypting the scenario's meta items in
    memory under exactly the metastore table name."""
    assert scenario.metastore is not None
    meta = scenario.metastore
    meta_provider = build_provider(meta.provider, keys)
    tables = load_json(meta.ciphertext)
    items = tables[meta.table_name]
    providers: dict[str, Any] = {}
    for stored in items:
        decrypted = decrypt_item(
            decode_ddb_item(stored),
            materials_provider=meta_provider,
            **meta_item_context(meta.table_name),
        )
        providers[f"{decrypted['N']['S']}#{decrypted['V']['N']}"] = provider_from_meta_item(
            decrypted
        )
    return providers


def meta_id(item: Mapping[str, Any]) -> str | None:
    """The ``amzn-ddb-meta-id`` of a stored item, if any."""
    raw = item.get(MD_ATTRIBUTE)
    if raw is None:
        return None
    return decode_material_description(raw["B"]).get(MD_META_ID)


# -------------------------------------------------------------------------------------------
# Plaintext expectations


@dataclass(frozen=True, slots=True)
class ExpectedItem:
    table: str
    partition: str
    sort: str | None
    attributes: dict[str, Any]
    actions: AttributeActions
    key: tuple[Any, ...]


def _actions(plaintext: Mapping[str, Any], name: str) -> AttributeActions:
    spec = plaintext["actions"][name]
    return AttributeActions(
        ACTION_NAMES[spec["default"]],
        {attr: ACTION_NAMES[act] for attr, act in spec.get("override", {}).items()},
    )


def expected_items(plaintext: Mapping[str, Any], version: str) -> list[ExpectedItem]:
    """Every plaintext item of every table, with its expected attributes and actions."""
    result = []
    for table, spec in plaintext["items"].items():
        partition = spec["index"]["partition"]
        sort = spec["index"].get("sort")
        groups = plaintext.get("versions", {}).get(table, {}).get(version, [])
        for entry in spec["items"]:
            attributes = decode_ddb_item(entry["attributes"])
            if not entry.get("exact", False):
                for group in groups:
                    attributes.update(decode_ddb_item(plaintext["attributes"][group]))
            key = tuple(comparable(attributes[n]) for n in (partition, sort) if n is not None)
            result.append(
                ExpectedItem(
                    table=table,
                    partition=partition,
                    sort=sort,
                    attributes=attributes,
                    actions=_actions(plaintext, entry["action"]),
                    key=key,
                )
            )
    return result


#: Attributes never compared: Java's mapper bumps ``version`` to 1, the plaintext says 0.
IGNORED_ATTRIBUTES = frozenset({"version"})


@dataclass
class ScenarioResult:
    checked: int = 0
    skipped_unmatched: int = 0


def check_data_items(
    scenario: Scenario,
    provider_for: Callable[[Mapping[str, Any]], MaterialsProvider],
    *,
    decrypt: Callable[..., dict[str, Any]] = decrypt_item,
) -> ScenarioResult:
    """Decrypt every ciphertext item of a scenario and compare it with its plaintext.

    Args:
        scenario: the scenario.
        provider_for: the provider to decrypt one stored item with.
        decrypt: the decrypt function (keyword arguments of :func:`decrypt_item`).

    Raises:
        AssertionError: an item did not decrypt to its plaintext.
    """
    plaintext = load_json(scenario.plaintext)
    expected = expected_items(plaintext, scenario.version)
    by_key = {(e.table, e.key): e for e in expected}
    tables = load_json(scenario.ciphertext)
    result = ScenarioResult()
    for table, items in tables.items():
        for stored_json in items:
            stored = decode_ddb_item(stored_json)
            some = next(e for e in expected if e.table == table)
            key = tuple(comparable(stored[n]) for n in (some.partition, some.sort) if n is not None)
            match = by_key.get((table, key))
            if match is None:
                # Java's v1 files carry extra items that have no plaintext counterpart.
                result.skipped_unmatched += 1
                continue
            decrypted = decrypt(
                stored,
                table_name=table,
                partition_key_name=match.partition,
                sort_key_name=match.sort,
                attribute_actions=match.actions,
                materials_provider=provider_for(stored),
            )
            assert set(decrypted) == set(match.attributes), (
                f"{scenario.id}: {table} item {key} has other attribute names"
            )
            got = comparable_item(decrypted)
            want = comparable_item(match.attributes)
            for name in IGNORED_ATTRIBUTES:
                got.pop(name, None)
                want.pop(name, None)
            assert got == want, f"{scenario.id}: {table} item {key} decrypted differently"
            result.checked += 1
    return result


def offline(scenarios: Iterable[Scenario]) -> list[Scenario]:
    return [s for s in scenarios if not s.network]
