"""``pynamodb-encryption inspect``: how one stored item is protected, without writing code.

Without keys it reads only what is stored in the clear: the material description (provider
kind, algorithms, wrapped-key kind, material name and version), the signature's presence and
each attribute's stored type. Which attributes are encrypted is a strong guess (a binary value
shaped like ``IV || AES-CBC ciphertext``); which plain attributes are signed cannot be known
without the verification key.

With ``--provider-config`` it also verifies the signature and decrypts. When the actions are
not given (``--encrypt``/``--sign``/``--default-action``), it finds them: the signature
matches exactly one set of signed attributes, so the candidates are tried, most likely first,
with the keys fetched once.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    MaterialsProvider,
)
from ..core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_KMS_EC_ATTRIBUTES,
    MD_META_ID,
    MD_SIGNING_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
    MD_SYMMETRIC_MODE,
    MaterialDescriptionError,
    decode_material_description,
)
from ..errors import (
    ConfigurationError,
    DecryptionError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
)
from ._common import (
    add_aws_options,
    add_provider_config_option,
    dynamodb_client,
    load_provider,
    provider_config_path,
)
from ._output import describe_value, dump_json, jsonable_item, jsonable_value, render_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["ItemProtection", "analyze", "register"]

#: Above this many candidate attributes the action search is refused (2**n candidates).
MAX_SEARCH_ATTRIBUTES = 14

_ACTION_NAMES = {
    "encrypt": CryptoAction.ENCRYPT_AND_SIGN,
    "sign": CryptoAction.SIGN_ONLY,
    "nothing": CryptoAction.DO_NOTHING,
}
_WRAP_KINDS = {
    "AESWrap": "AES key wrap (RFC 3394) under a symmetric key-encryption key",
    "kms": "AWS KMS ciphertext of a data key (GenerateDataKey), bound to the table and keys",
    "RSA/ECB/OAEPWithSHA-1AndMGF1Padding": "RSA-OAEP (SHA-1) under an RSA public key",
    "RSA/ECB/OAEPWithSHA-256AndMGF1Padding": "RSA-OAEP (SHA-256) under an RSA public key",
    "RSA/ECB/OAEPWithSHA-384AndMGF1Padding": "RSA-OAEP (SHA-384) under an RSA public key",
    "RSA/ECB/OAEPWithSHA-512AndMGF1Padding": "RSA-OAEP (SHA-512) under an RSA public key",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``inspect`` command."""
    parser = subparsers.add_parser(
        "inspect",
        help="show how an item is protected; with keys, verify and decrypt it",
        description="Read one item and show its protection: which attributes are encrypted, "
        "signed or plain, the materials provider, algorithms, wrapped-key kind, material "
        "name and version. Nothing is decrypted unless a provider config is given.",
    )
    parser.add_argument("--table", required=True, help="table name")
    parser.add_argument(
        "--key",
        required=True,
        metavar="NAME=VALUE",
        help="partition key (numbers as written, binary values in base64)",
    )
    parser.add_argument("--sort", metavar="NAME=VALUE", help="sort key, if the table has one")
    add_provider_config_option(parser, required=False)
    actions = parser.add_argument_group(
        "attribute actions (optional; found from the signature when keys are given)"
    )
    actions.add_argument(
        "--encrypt", metavar="NAMES", default="", help="comma-separated ENCRYPT_AND_SIGN attributes"
    )
    actions.add_argument(
        "--sign", metavar="NAMES", default="", help="comma-separated SIGN_ONLY attributes"
    )
    actions.add_argument(
        "--default-action",
        choices=tuple(_ACTION_NAMES),
        help="action of every other attribute (the model's default); giving any of these "
        "three options turns the search off",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_aws_options(parser)
    parser.set_defaults(func=run)


# ----------------------------------------------------------------------------------------
# Analysis (pure, testable without a server)


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """What the material description says about the provider and its algorithms."""

    kind: str
    signing_algorithm: str | None
    content_algorithm: str | None
    symmetric_mode: str | None
    wrap_algorithm: str | None
    wrapped_key: str | None
    wrapped_key_bytes: int | None
    material_name: str | None
    material_version: int | None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """One stored attribute and what is known about its protection."""

    name: str
    stored_type: str
    protection: str
    certain: bool
    stored: Any
    decrypted: Any = None


@dataclass(frozen=True, slots=True)
class ItemProtection:
    """The result of `analyze` (and, with keys, of verification)."""

    table: str
    key: Mapping[str, Any]
    signed: bool
    provider: ProviderInfo | None
    attributes: tuple[AttributeInfo, ...]
    verification: str
    error: str | None = None


def provider_info(description: Mapping[str, str]) -> ProviderInfo:
    """Read a decoded material description (untrusted: only displayed, never acted on)."""
    meta_id = description.get(MD_META_ID)
    wrap = description.get(MD_KEY_WRAP_ALGORITHM)
    env_key = description.get(MD_ENCRYPTED_KEY)
    if meta_id is not None:
        kind = "most-recent (keys from a meta store, wrapped per item)"
    elif wrap == "kms" or MD_KMS_EC_ATTRIBUTES in description:
        kind = "aws-kms (a KMS data key per item)"
    elif env_key is not None:
        kind = "wrapped (a random content key per item, wrapped)"
    else:
        kind = "static (the same raw keys for every item)"
    name = version = None
    if meta_id is not None:
        raw_name, _, raw_version = meta_id.rpartition("#")
        name = raw_name or meta_id
        version = int(raw_version) if raw_version.isdigit() else None
    wrapped_kind = None
    size = None
    if env_key is not None:
        if wrap is None:
            wrapped_kind = "RSA PKCS#1 v1.5 (legacy Java items name no wrap algorithm)"
        else:
            wrapped_kind = f"{wrap}: {_WRAP_KINDS.get(wrap, 'unknown algorithm')}"
        try:
            size = len(base64.b64decode(env_key, validate=True))
        except (binascii.Error, ValueError):
            size = None
    known = {
        MD_META_ID,
        MD_KEY_WRAP_ALGORITHM,
        MD_ENCRYPTED_KEY,
        MD_SIGNING_ALGORITHM,
        MD_CONTENT_KEY_ALGORITHM,
        MD_SYMMETRIC_MODE,
    }
    return ProviderInfo(
        kind=kind,
        signing_algorithm=description.get(MD_SIGNING_ALGORITHM)
        or description.get(MD_SIGNING_KEY_ALGORITHM),
        content_algorithm=description.get(MD_CONTENT_KEY_ALGORITHM),
        symmetric_mode=description.get(MD_SYMMETRIC_MODE),
        wrap_algorithm=wrap,
        wrapped_key=wrapped_kind,
        wrapped_key_bytes=size,
        material_name=name,
        material_version=version,
        extra={k: v for k, v in sorted(description.items()) if k not in known},
    )


def _looks_encrypted(value: Any) -> bool:
    """A ``B`` value shaped like the format's ``IV (16) || AES-CBC ciphertext`` (>= 2 blocks)."""
    if not isinstance(value, Mapping) or set(value) != {"B"}:
        return False
    size = len(bytes(value["B"]))
    return size >= 32 and size % 16 == 0


def _stored_type(value: Any) -> str:
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value)))
    return "?"


def _reserved(name: str) -> bool:
    return name in (SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE)


def analyze(item: Mapping[str, Any], *, table: str, key_names: Sequence[str]) -> ItemProtection:
    """Describe an item's protection from what is stored in the clear only."""
    signed = SIGNATURE_ATTRIBUTE in item
    provider = None
    error = None
    description: dict[str, str] = {}
    raw_md = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
    if isinstance(raw_md, Mapping) and "B" in raw_md:
        try:
            description = decode_material_description(bytes(raw_md["B"]))
        except MaterialDescriptionError as exc:
            error = f"the material description is malformed: {exc}"
        else:
            provider = provider_info(description)
    can_encrypt = MD_SYMMETRIC_MODE in description
    attributes = []
    for name in sorted(item):
        if _reserved(name):
            continue
        value = item[name]
        if not signed:
            protection, certain = "plain (the item is not signed)", True
        elif name in key_names:
            protection, certain = "key: signed or plain (keys are never encrypted)", False
        elif can_encrypt and _looks_encrypted(value):
            protection, certain = "encrypted + signed (by its shape)", False
        else:
            protection, certain = "signed or plain (needs the key to tell)", False
        attributes.append(AttributeInfo(name, _stored_type(value), protection, certain, value))
    return ItemProtection(
        table=table,
        key={n: item[n] for n in key_names if n in item},
        signed=signed,
        provider=provider,
        attributes=tuple(attributes),
        verification="not signed" if not signed else "not checked (no keys given)",
        error=error,
    )


class _FixedMaterials:
    """A provider that answers every decryption request with materials fetched once.

    The action search re-verifies one item many times; asking KMS or a meta store each time
    would cost a network round trip per candidate.
    """

    def __init__(self, materials: DecryptionMaterials) -> None:
        self._materials = materials

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        raise ConfigurationError("inspect never encrypts")

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        return self._materials


def candidate_actions(
    item: Mapping[str, Any], key_names: Sequence[str], *, can_encrypt: bool
) -> Iterator[AttributeActions]:
    """Attribute actions to try, most likely first.

    Binary values shaped like ciphertext are taken as encrypted; every subset of the other
    attributes is then tried as the signed set, largest first (keys and modelled attributes
    are usually all signed).
    """
    names = [n for n in item if not _reserved(n)]
    encrypted = {
        n: CryptoAction.ENCRYPT_AND_SIGN
        for n in names
        if can_encrypt and n not in key_names and _looks_encrypted(item[n])
    }
    rest = sorted(n for n in names if n not in encrypted)
    if len(rest) > MAX_SEARCH_ATTRIBUTES:
        raise ConfigurationError(
            f"too many attributes ({len(rest)}) to find the actions by search; give "
            "--encrypt, --sign and --default-action"
        )
    for size in range(len(rest), -1, -1):
        for signed in itertools.combinations(rest, size):
            overrides = dict(encrypted)
            overrides.update({n: CryptoAction.SIGN_ONLY for n in signed})
            yield AttributeActions(CryptoAction.DO_NOTHING, overrides)


def verify_and_decrypt(
    item: Mapping[str, Any],
    report: ItemProtection,
    *,
    provider: MaterialsProvider,
    partition_key: str,
    sort_key: str | None,
    actions: AttributeActions | None,
) -> ItemProtection:
    """Verify and decrypt ``item`` with ``provider``; returns the report completed."""
    if not report.signed:
        return report
    body = {k: v for k, v in item.items() if not _reserved(k)}
    description: dict[str, str] = {}
    raw_md = item.get(MATERIAL_DESCRIPTION_ATTRIBUTE)
    if isinstance(raw_md, Mapping) and "B" in raw_md:
        description = decode_material_description(bytes(raw_md["B"]))
    context = EncryptionContext(
        table_name=report.table,
        partition_key_name=partition_key,
        sort_key_name=sort_key,
        attributes=MappingProxyType(body),
        material_description=MappingProxyType(description),
    )
    materials = provider.decryption_materials(context)
    fixed = _FixedMaterials(materials)
    keys = [n for n in (partition_key, sort_key) if n is not None]
    searched = actions is None
    candidates: Iterator[AttributeActions] = (
        iter([actions])
        if actions is not None
        else candidate_actions(item, keys, can_encrypt=MD_SYMMETRIC_MODE in description)
    )
    last_error: PynamoDBEncryptionError | None = None
    for candidate in candidates:
        encryptor = ItemEncryptor(
            table_name=report.table,
            partition_key_name=partition_key,
            sort_key_name=sort_key,
            attribute_actions=candidate,
            materials_provider=fixed,
        )
        try:
            plain = encryptor.decrypt(item)
        except SignatureVerificationError as exc:
            last_error = exc
            continue
        except DecryptionError as exc:
            last_error = exc
            if searched:
                continue
            break
        effective = encryptor.attribute_actions
        attributes = tuple(
            AttributeInfo(
                a.name,
                a.stored_type,
                _PROTECTION[effective.action(a.name)],
                True,
                a.stored,
                plain.get(a.name),
            )
            for a in report.attributes
        )
        how = "found by search" if searched else "as given"
        return ItemProtection(
            table=report.table,
            key=report.key,
            signed=True,
            provider=report.provider,
            attributes=attributes,
            verification=f"signature verified, values decrypted (actions {how})",
        )
    message = str(last_error) if last_error is not None else "no candidate actions"
    if searched:
        message = (
            "no set of signed attributes matches the signature: wrong keys, or the item was "
            f"changed ({message})"
        )
    return ItemProtection(
        table=report.table,
        key=report.key,
        signed=True,
        provider=report.provider,
        attributes=report.attributes,
        verification="FAILED",
        error=message,
    )


_PROTECTION = {
    CryptoAction.ENCRYPT_AND_SIGN: "encrypted + signed",
    CryptoAction.SIGN_ONLY: "signed",
    CryptoAction.DO_NOTHING: "plain (not signed)",
}


# ----------------------------------------------------------------------------------------
# Command


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def explicit_actions(args: argparse.Namespace) -> AttributeActions | None:
    """The actions from ``--encrypt``/``--sign``/``--default-action``; None when absent."""
    encrypt, sign = _names(args.encrypt), _names(args.sign)
    if not encrypt and not sign and args.default_action is None:
        return None
    both = set(encrypt) & set(sign)
    if both:
        raise ConfigurationError(f"attributes in both --encrypt and --sign: {sorted(both)}")
    overrides = {n: CryptoAction.ENCRYPT_AND_SIGN for n in encrypt}
    overrides.update({n: CryptoAction.SIGN_ONLY for n in sign})
    default = _ACTION_NAMES[args.default_action or "nothing"]
    return AttributeActions(default, overrides)


def _typed_key(
    text: str, option: str, schema: Mapping[str, str], types: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ConfigurationError(f"{option} must look like NAME=VALUE")
    kind = schema.get(name)
    if kind is None:
        expected = ", ".join(f"{n} ({k})" for n, k in schema.items())
        raise ConfigurationError(f"{option}: {name!r} is not a key of the table ({expected})")
    attribute_type = types.get(name, "S")
    if attribute_type == "B":
        try:
            return name, {"B": base64.b64decode(value, validate=True)}
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(f"{option}: a binary key must be base64") from exc
    return name, {attribute_type: value}


def _fetch(
    client: DynamoDBClient, args: argparse.Namespace
) -> tuple[dict[str, Any], str, str | None]:
    table = client.describe_table(TableName=args.table)["Table"]
    schema = {k["AttributeName"]: k["KeyType"] for k in table.get("KeySchema", [])}
    types = {d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])}
    partition = next(n for n, kind in schema.items() if kind == "HASH")
    sort = next((n for n, kind in schema.items() if kind == "RANGE"), None)
    key: dict[str, Any] = {}
    name, value = _typed_key(args.key, "--key", schema, types)
    key[name] = value
    if args.sort:
        name, value = _typed_key(args.sort, "--sort", schema, types)
        key[name] = value
    if partition not in key or (sort is not None and sort not in key):
        needed = [n for n in (partition, sort) if n is not None]
        raise ConfigurationError(
            f"give the whole primary key ({', '.join(needed)}): --key and --sort"
        )
    response = client.get_item(TableName=args.table, Key=key, ConsistentRead=True)
    item = response.get("Item")
    if item is None:
        raise ConfigurationError(f"no item with that key in table {args.table!r}")
    return dict(item), partition, sort


def run(args: argparse.Namespace) -> int:
    """Entry point of ``pynamodb-encryption inspect``."""
    actions = explicit_actions(args)
    config = provider_config_path(args)
    client = dynamodb_client(args)
    provider = (
        load_provider(config, client, allow_insecure_key_file=args.allow_insecure_key_file)
        if config is not None
        else None
    )
    item, partition, sort = _fetch(client, args)
    keys = [n for n in (partition, sort) if n is not None]
    report = analyze(item, table=args.table, key_names=keys)
    if actions is not None and provider is None:
        report = _apply_actions(report, actions.with_index_keys(keys))
    if provider is not None:
        report = verify_and_decrypt(
            item, report, provider=provider, partition_key=partition, sort_key=sort, actions=actions
        )
    if args.json:
        dump_json(report_json(report))
    else:
        sys.stdout.write(render_text(report) + "\n")
    return 1 if report.verification == "FAILED" else 0


def _apply_actions(report: ItemProtection, actions: AttributeActions) -> ItemProtection:
    if not report.signed:
        return report
    attributes = tuple(
        AttributeInfo(a.name, a.stored_type, _PROTECTION[actions.action(a.name)], False, a.stored)
        for a in report.attributes
    )
    return ItemProtection(
        table=report.table,
        key=report.key,
        signed=report.signed,
        provider=report.provider,
        attributes=attributes,
        verification="not checked (actions as given; no keys to verify them)",
        error=report.error,
    )


def render_text(report: ItemProtection) -> str:
    """Tables for humans."""
    key_text = ", ".join(f"{n}={describe_value(v)}" for n, v in report.key.items())
    lines = [f"Table: {report.table}    Item: {key_text}", ""]
    info = report.provider
    if info is None:
        lines.append(
            "Protection: none (no material description: the item was written without encryption)"
            if not report.signed
            else "Protection: signed, but the material description is missing or malformed"
        )
    else:
        rows = [
            ["provider", info.kind],
            ["signing algorithm", info.signing_algorithm or "-"],
            [
                "content encryption",
                " ".join(x for x in (info.content_algorithm, info.symmetric_mode) if x) or "-",
            ],
            ["wrapped key", info.wrapped_key or "none (no per-item key)"],
        ]
        if info.wrapped_key_bytes is not None:
            rows.append(["wrapped key size", f"{info.wrapped_key_bytes} bytes"])
        if info.material_name is not None:
            version = "?" if info.material_version is None else str(info.material_version)
            rows.append(["material name", info.material_name])
            rows.append(["material version", version])
        rows.extend([k, _short(v)] for k, v in info.extra.items())
        lines.append(render_table(("material description", "value"), rows))
    lines.append("")
    decrypted = any(a.decrypted is not None for a in report.attributes)
    headers = ["attribute", "type", "protection", "stored value"]
    if decrypted:
        headers.append("decrypted value")
    rows2 = []
    for a in report.attributes:
        row = [a.name, a.stored_type, a.protection, describe_value(a.stored)]
        if decrypted:
            row.append(_describe_plaintext(a.decrypted))
        rows2.append(row)
    lines.append(render_table(headers, rows2))
    lines.append("")
    lines.append(f"Signature: {report.verification}")
    if report.error:
        lines.append(f"Error: {report.error}")
    return "\n".join(lines)


def _describe_plaintext(value: Any) -> str:
    """A decrypted value for the terminal; binary plaintext shows its size only, since it is
    often key material (a meta store's items hold keys)."""
    if value is None:
        return ""
    if isinstance(value, Mapping) and set(value) == {"B"}:
        return f"<{len(bytes(value['B']))} bytes, not shown>"
    return describe_value(value)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def report_json(report: ItemProtection) -> dict[str, Any]:
    """The ``--json`` document."""
    info = report.provider
    return {
        "table": report.table,
        "key": jsonable_item(report.key),
        "signed": report.signed,
        "verification": report.verification,
        "error": report.error,
        "provider": None
        if info is None
        else {
            "kind": info.kind,
            "signing_algorithm": info.signing_algorithm,
            "content_algorithm": info.content_algorithm,
            "symmetric_mode": info.symmetric_mode,
            "wrap_algorithm": info.wrap_algorithm,
            "wrapped_key": info.wrapped_key,
            "wrapped_key_bytes": info.wrapped_key_bytes,
            "material_name": info.material_name,
            "material_version": info.material_version,
            "other": dict(info.extra),
        },
        "attributes": [
            {
                "name": a.name,
                "type": a.stored_type,
                "protection": a.protection,
                "certain": a.certain,
                "stored": jsonable_value(a.stored),
                "decrypted": None if a.decrypted is None else jsonable_value(a.decrypted),
            }
            for a in report.attributes
        ],
    }
