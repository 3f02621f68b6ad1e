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
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    ItemDescription,
    MaterialsProvider,
    describe_item,
)
from ..core._describe import (
    MAX_SEARCH_ATTRIBUTES,
    candidate_actions,
    legacy_provider_kind,
    looks_encrypted,
    verify_item,
    with_verification,
)
from ..core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_META_ID,
    MD_SIGNING_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
    MD_SYMMETRIC_MODE,
    MaterialDescriptionError,
    decode_material_description,
)
from ..errors import ConfigurationError, PynamoDBEncryptionError
from ._common import (
    add_aws_options,
    add_provider_config_option,
    dynamodb_client,
    is_keyring_config_file,
    load_keyring,
    load_provider,
    provider_config_path,
)
from ._output import (
    Document,
    Table,
    describe_value,
    dump_json,
    jsonable_item,
    jsonable_value,
    mask_value,
    print_document,
    render_plain,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "MAX_SEARCH_ATTRIBUTES",
    "ItemProtection",
    "analyze",
    "candidate_actions",
    "provider_info",
    "register",
    "verify_and_decrypt",
]

EPILOG = """\
examples:
  what is stored in the clear (no keys needed):
    pynamodb-encryption inspect --table orders --key order_id=o-1

  verify and decrypt (values masked), composite key, against DynamoDB Local:
    pynamodb-encryption inspect --table orders --key customer=c-9 --sort created=3 \\
        --provider-config keys.json --endpoint-url http://127.0.0.1:8000

  print the decrypted values too, as JSON:
    pynamodb-encryption inspect --table orders --key order_id=o-1 \\
        --provider-config keys.json --show-values --json

exit codes: 0 read (and verified, with keys), 1 verification failed or an error.
"""

#: Explanations of the provider kinds, as named in config files and `ItemDescription`.
_KIND_TEXT = {
    "most-recent": "most-recent (keys from a meta store, wrapped per item)",
    "aws-kms": "aws-kms (a KMS data key per item)",
    "wrapped": "wrapped (a random content key per item, wrapped)",
    "static": "static (the same raw keys for every item)",
}

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
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument(
        "--show-values",
        action="store_true",
        help="print decrypted values (by default they are masked: type and size only)",
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
    #: The public description (`pynamodb_encryption.describe_item`) of the stored item.
    description: ItemDescription | None = None


def provider_info(description: Mapping[str, str]) -> ProviderInfo:
    """Read a decoded material description (untrusted: only displayed, never acted on)."""
    meta_id = description.get(MD_META_ID)
    wrap = description.get(MD_KEY_WRAP_ALGORITHM)
    env_key = description.get(MD_ENCRYPTED_KEY)
    kind = _KIND_TEXT[legacy_provider_kind(description)]
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


def _stored_type(value: Any) -> str:
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value)))
    return "?"


def _reserved(name: str) -> bool:
    return name in (SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE) or name.startswith(
        "aws_dbe_"
    )


def _analyze_dbesdk(
    item: Mapping[str, Any], described: ItemDescription, *, table: str, key_names: Sequence[str]
) -> ItemProtection:
    """A DB-ESDK item: the header's legend says which attributes are encrypted."""
    attributes = []
    for name in sorted(item):
        if _reserved(name):
            continue
        value = item[name]
        if described.certain:
            encrypted = name in described.encrypted_attributes
            protection = "encrypted + signed" if encrypted else "signed"
        else:
            protection = "encrypted, signed or plain (needs the configuration)"
        attributes.append(
            AttributeInfo(name, _stored_type(value), protection, described.certain, value)
        )
    return ItemProtection(
        table=table,
        key={n: item[n] for n in key_names if n in item},
        signed=described.signed,
        provider=None,
        attributes=tuple(attributes),
        verification="not checked (AWS Database Encryption SDK item)",
        error=described.error,
        description=described,
    )


def analyze(item: Mapping[str, Any], *, table: str, key_names: Sequence[str]) -> ItemProtection:
    """Describe an item's protection from what is stored in the clear only."""
    described = describe_item(item)
    if described.format == "dbesdk":
        return _analyze_dbesdk(item, described, table=table, key_names=key_names)
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
        elif can_encrypt and looks_encrypted(value):
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
        description=described,
    )


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
    outcome = verify_item(
        item,
        provider=provider,
        table_name=report.table,
        partition_key_name=partition_key,
        sort_key_name=sort_key,
        attribute_actions=actions,
    )
    description = (
        with_verification(report.description, outcome, provider=provider)
        if report.description is not None
        else None
    )
    if isinstance(outcome, PynamoDBEncryptionError):
        return dataclasses.replace(
            report, verification="FAILED", error=str(outcome), description=description
        )
    effective = outcome.actions
    attributes = tuple(
        AttributeInfo(
            a.name,
            a.stored_type,
            _PROTECTION[effective.action(a.name)],
            True,
            a.stored,
            outcome.plaintext.get(a.name),
        )
        for a in report.attributes
    )
    how = "found by search" if outcome.searched else "as given"
    return dataclasses.replace(
        report,
        attributes=attributes,
        verification=f"signature verified, values decrypted (actions {how})",
        error=None,
        description=description,
    )


def verify_dbesdk(
    item: Mapping[str, Any],
    report: ItemProtection,
    *,
    keyring: Any,
    partition_key: str,
    sort_key: str | None,
) -> ItemProtection:
    """Verify and decrypt a DB-ESDK item with a keyring config (a `KeyringConfig`): the
    actions come from the item's header, the signature scope from the config's allowed
    unsigned set and prefix."""
    from ..structured import DbEsdkItemEncryptor
    from ..structured._header import parse_header

    described = report.description
    if described is None or described.format != "dbesdk":
        return dataclasses.replace(
            report,
            verification="FAILED",
            error="the item is not in the AWS Database Encryption SDK format: a keyring config "
            "cannot verify it (use the legacy provider config)",
        )
    try:
        raw_header = item["aws_dbe_head"]["B"]
        version = parse_header(bytes(raw_header)).version
        key_action = (
            CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT
            if version == 2
            else CryptoAction.SIGN_ONLY
        )
        encryptor = DbEsdkItemEncryptor(
            table_name=keyring.logical_table_name or report.table,
            partition_key_name=partition_key,
            sort_key_name=sort_key,
            attribute_actions={n: key_action for n in (partition_key, sort_key) if n},
            keyring=keyring.keyring,
            allowed_unsigned_attributes=keyring.allowed_unsigned_attributes,
            allowed_unsigned_attribute_prefix=keyring.allowed_unsigned_attribute_prefix,
        )
        written = encryptor.read_header(item).attribute_actions
        plaintext = encryptor.decrypt(item)
    except (PynamoDBEncryptionError, KeyError, TypeError, ValueError) as exc:
        return dataclasses.replace(report, verification="FAILED", error=str(exc))
    attributes = tuple(
        AttributeInfo(
            a.name,
            a.stored_type,
            _PROTECTION[written.get(a.name, CryptoAction.DO_NOTHING)],
            True,
            a.stored,
            plaintext.get(a.name),
        )
        for a in report.attributes
    )
    return dataclasses.replace(
        report,
        attributes=attributes,
        verification="commitment, footer and signature verified, values decrypted",
        error=None,
    )


_PROTECTION = {
    CryptoAction.ENCRYPT_AND_SIGN: "encrypted + signed",
    CryptoAction.SIGN_ONLY: "signed",
    CryptoAction.SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT: "signed, in the encryption context",
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
    provider = keyring = None
    if config is not None and is_keyring_config_file(config):
        keyring = load_keyring(config, client, allow_insecure_key_file=args.allow_insecure_key_file)
    elif config is not None:
        provider = load_provider(
            config, client, allow_insecure_key_file=args.allow_insecure_key_file
        )
    item, partition, sort = _fetch(client, args)
    keys = [n for n in (partition, sort) if n is not None]
    report = analyze(item, table=args.table, key_names=keys)
    if keyring is not None:
        report = verify_dbesdk(
            item, report, keyring=keyring, partition_key=partition, sort_key=sort
        )
    if actions is not None and provider is None:
        report = _apply_actions(report, actions.with_index_keys(keys))
    if provider is not None and config is not None:
        mismatch = kind_mismatch(report.description, config)
        if mismatch is not None:
            report = dataclasses.replace(report, verification="FAILED", error=mismatch)
        else:
            report = verify_and_decrypt(
                item,
                report,
                provider=provider,
                partition_key=partition,
                sort_key=sort,
                actions=actions,
            )
    if args.json:
        dump_json(report_json(report, show_values=args.show_values))
    else:
        print_document(document(report, show_values=args.show_values))
    return 1 if report.verification == "FAILED" else 0


def kind_mismatch(description: ItemDescription | None, config: Path) -> str | None:
    """Why a config of another provider kind cannot read the item (None: kinds agree).

    A key-rotation config holds providers of any kind, so it is never a mismatch.
    """
    from ..maintenance import read_provider_config

    if description is None:
        return None
    if description.format == "dbesdk":
        return (
            "the item is in the AWS Database Encryption SDK format (written with "
            f"{description.provider_kind or 'an unknown'} keyring); a provider config of the "
            "legacy format cannot verify it"
        )
    wanted = read_provider_config(config).get("provider")
    written = description.provider_kind
    if description.format != "legacy" or written is None or wanted in (None, "key-rotation"):
        return None
    if wanted == written:
        return None
    detail = ""
    if description.material_name is not None:
        version = description.material_version
        detail = f" (material {description.material_name!r}, version {version})"
    return (
        f"the item was written by a {written!r} provider{detail}, but {config} describes a "
        f"{wanted!r} provider: inspect it with a {written!r} config"
    )


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


def render_text(report: ItemProtection, *, show_values: bool = False) -> str:
    """Tables for humans, as plain text."""
    return render_plain(document(report, show_values=show_values))


def document(report: ItemProtection, *, show_values: bool = False) -> Document:
    """The text report: the item, its materials, its attributes, the signature's status."""
    key_text = ", ".join(f"{n}={describe_value(v)}" for n, v in report.key.items())
    parts: list[str | Table] = [f"Table: {report.table}    Item: {key_text}", ""]
    info = report.provider
    description = report.description
    if description is not None and description.format == "dbesdk":
        parts.append(Table(("DB-ESDK header", "value"), _dbesdk_rows(description)))
    elif info is None:
        parts.append(
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
                (description.content_algorithm if description is not None else None) or "-",
            ],
            ["wrapped key", info.wrapped_key or "none (no per-item key)"],
        ]
        if info.wrapped_key_bytes is not None:
            rows.append(["wrapped key size", f"{info.wrapped_key_bytes} bytes"])
        if info.material_name is not None:
            version = "?" if info.material_version is None else str(info.material_version)
            rows.append(["material name", info.material_name])
            rows.append(["material version", version])
        if description is not None and description.kms_key_id is not None:
            rows.append(["KMS key", description.kms_key_id])
        rows.extend([k, _short(v)] for k, v in info.extra.items())
        parts.append(Table(("material description", "value"), rows))
    parts.append("")
    decrypted = any(a.decrypted is not None for a in report.attributes)
    headers = ["attribute", "type", "protection", "stored value"]
    if decrypted:
        headers.append("decrypted value")
    rows2 = []
    for a in report.attributes:
        row = [a.name, a.stored_type, a.protection, describe_value(a.stored)]
        if decrypted:
            row.append(_describe_plaintext(a.decrypted, show_values=show_values))
        rows2.append(row)
    parts.append(Table(headers, rows2, emphasis=frozenset({"protection"})))
    parts.append("")
    parts.append(f"Signature: {report.verification}")
    if decrypted and not show_values:
        parts.append("Values: masked (--show-values prints them)")
    if report.error:
        parts.append(f"Error: {report.error}")
    return parts


def _dbesdk_rows(description: ItemDescription) -> list[list[str]]:
    rows = [
        ["format", "AWS Database Encryption SDK"],
        ["keyring", description.provider_kind or "-"],
        ["signing algorithm", description.signing_algorithm or "-"],
        ["content encryption", description.content_algorithm or "-"],
    ]
    for label, value in (
        ("KMS key", description.kms_key_id),
        ("branch key id", description.material_name),
        ("branch key version", description.branch_key_version),
        ("raw key", description.key_name),
    ):
        if value is not None:
            rows.append([label, value])
    if description.certain:
        rows.append(["encrypted", ", ".join(sorted(description.encrypted_attributes)) or "none"])
    return rows


def _describe_plaintext(value: Any, *, show_values: bool = False) -> str:
    """A decrypted value for the terminal: masked unless asked for. Binary plaintext shows its
    size only even then, since it is often key material (a meta store's items hold keys)."""
    if value is None:
        return ""
    if not show_values:
        return mask_value(value)
    if isinstance(value, Mapping) and set(value) == {"B"}:
        return f"<{len(bytes(value['B']))} bytes, not shown>"
    return describe_value(value)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def report_json(report: ItemProtection, *, show_values: bool = False) -> dict[str, Any]:
    """The ``--json`` document; decrypted values are masked unless ``show_values``."""
    info = report.provider
    return {
        "description": None if report.description is None else description_json(report.description),
        "values_shown": show_values,
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
                "decrypted": None
                if a.decrypted is None or not show_values
                else jsonable_value(a.decrypted),
                "decrypted_masked": None if a.decrypted is None else mask_value(a.decrypted),
            }
            for a in report.attributes
        ],
    }


def description_json(description: ItemDescription) -> dict[str, Any]:
    """An `ItemDescription` as JSON (sets as sorted lists)."""
    data: dict[str, Any] = {}
    for item in dataclasses.fields(description):
        value = getattr(description, item.name)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        data[item.name] = value
    return data
