"""``pynamodb-encryption demo``: the whole story in one command, with no AWS account.

1. Start an embedded DynamoDB + KMS API (moto, in this process, on a free loopback port),
   unless ``--endpoint-url`` points at another one (DynamoDB Local, AWS).
2. Create a table and an encrypted model with encrypted, signed and plain fields.
3. Save one item, then show side by side: the plaintext item, the raw item as DynamoDB holds
   it (ciphertext, material description, signature), and the item read back, verified and
   decrypted.
4. Tamper with the stored item: change a plain attribute (not detected, by design) and then a
   signed one (the read fails with a signature verification error).

The keys live in memory for the run only (or in the embedded KMS with ``--provider kms``).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core import MATERIAL_DESCRIPTION_ATTRIBUTE, SIGNATURE_ATTRIBUTE, CryptoAction, SymmetricKey
from ..core._md import decode_material_description
from ..errors import ConfigurationError, SignatureVerificationError
from ._common import client_kwargs
from ._output import (
    Document,
    Table,
    describe_value,
    dump_json,
    jsonable_item,
    print_document,
    render_plain,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ..core import MaterialsProvider

__all__ = ["DemoReport", "register", "run_demo"]

#: The demo's record: one patient. Values are fictitious.
DEMO_ITEM: Mapping[str, Any] = {
    "patient_id": {"S": "patient-0042"},
    "ssn": {"S": "078-05-1120"},
    "diagnosis": {"S": "seasonal allergic rhinitis"},
    "plan": {"S": "basic"},
    "ward": {"S": "east-3"},
}
PARTITION_KEY = "patient_id"
#: Encrypted values: these strings must never show up in what DynamoDB stores.
SECRET_ATTRIBUTES = ("ssn", "diagnosis")
SIGNED_TAMPER = ("plan", "platinum")
PLAIN_TAMPER = ("ward", "west-1")
_PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@contextmanager
def _quiet_expected_failure() -> Iterator[None]:
    # The demo tampers on purpose and reports the detection itself; the library's WARNING for
    # a failed verification would print the same news again, out of place.
    logger = logging.getLogger("pynamodb_encryption.items")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


@dataclass(frozen=True, slots=True)
class TamperResult:
    """What happened when one stored attribute was changed behind the library's back."""

    attribute: str
    action: str
    new_value: Any
    detected: bool
    error: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class DemoReport:
    """Everything the demo shows, for the text and JSON renderers."""

    endpoint: str
    embedded: bool
    table: str
    provider: str
    actions: Mapping[str, str]
    plaintext: Mapping[str, Any]
    stored: Mapping[str, Any]
    material_description: Mapping[str, str]
    read_back: Mapping[str, Any]
    tampering: tuple[TamperResult, ...] = field(default=())


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="show encryption, signing and tamper detection end to end (no AWS needed)",
        description="Start an embedded DynamoDB + KMS API (moto) on a free loopback port, "
        "save an item through an encrypted model, show the plaintext, the stored and the "
        "decrypted item side by side, then tamper with the stored item. Nothing is sent "
        "to AWS unless --endpoint-url says so.",
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="use this DynamoDB API (e.g. DynamoDB Local) instead of the embedded one; the "
        "demo table is deleted at the end",
    )
    parser.add_argument("--region", metavar="REGION", help="AWS region (default us-east-1)")
    parser.add_argument(
        "--provider",
        choices=("wrapped", "kms"),
        default="wrapped",
        help="wrapped: AES key-wrapping and HMAC keys generated in memory (default); kms: "
        "a key in the embedded KMS (only with the embedded server or --kms-endpoint-url)",
    )
    parser.add_argument(
        "--kms-endpoint-url", metavar="URL", help="KMS API for --provider kms (default: embedded)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    parser.set_defaults(func=run)


@contextmanager
def _endpoint(endpoint_url: str | None) -> Iterator[tuple[str, bool]]:
    """Yield ``(url, embedded)``: the given endpoint, or an embedded moto stopped on exit."""
    if endpoint_url:
        yield endpoint_url, False
        return
    from .._embedded_moto import EmbeddedMoto

    server = EmbeddedMoto()
    url = server.start()
    # The embedded server needs no AWS configuration; a profile named in the environment that
    # does not exist on this machine would still make every client fail, so hide it.
    hidden = {name: os.environ.pop(name) for name in _PROFILE_VARIABLES if name in os.environ}
    try:
        yield url, True
    finally:
        os.environ.update(hidden)
        server.stop()


def _provider(kind: str, kms_kwargs: Mapping[str, Any]) -> tuple[MaterialsProvider, str]:
    from ..providers import WrappedMaterialsProvider

    if kind == "kms":
        import boto3

        from ..providers import AwsKmsMaterialsProvider

        kms = boto3.client("kms", **kms_kwargs)
        key_id = kms.create_key(Description="pynamodb-encryption demo key")["KeyMetadata"]["KeyId"]
        return (
            AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms),
            f"AwsKmsMaterialsProvider (KMS key {key_id})",
        )
    provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )
    return provider, "WrappedMaterialsProvider (AES-256 wrapping key, HMAC-SHA256 signing key)"


def _create_table(client: DynamoDBClient, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def run_demo(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    provider_kind: str = "wrapped",
    kms_endpoint_url: str | None = None,
) -> DemoReport:
    """Run the demo and return what it saw (no printing)."""
    import boto3

    from ._demo_model import DemoStore

    if provider_kind == "kms" and endpoint_url and not kms_endpoint_url:
        raise ConfigurationError("--provider kms needs the embedded server or --kms-endpoint-url")
    with _endpoint(endpoint_url) as (url, embedded):
        kwargs = client_kwargs(url, region, embedded=embedded)
        client: DynamoDBClient = boto3.client("dynamodb", **kwargs)
        provider, provider_text = _provider(
            provider_kind,
            client_kwargs(kms_endpoint_url, region)
            if kms_endpoint_url
            else client_kwargs(url, region, embedded=embedded),
        )
        table = f"pynamodb-encryption-demo-{secrets.token_hex(4)}"
        _create_table(client, table)
        try:
            store = DemoStore(
                table_name=table, endpoint_url=url, provider=provider, client_kwargs=kwargs
            )
            key = {PARTITION_KEY: DEMO_ITEM[PARTITION_KEY]}
            store.save(DEMO_ITEM)
            stored = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
            read_back = store.load(key)
            raw_md = stored.get(MATERIAL_DESCRIPTION_ATTRIBUTE, {}).get("B", b"")
            description = decode_material_description(bytes(raw_md)) if raw_md else {}

            tampering = []
            for name, new_value in (PLAIN_TAMPER, SIGNED_TAMPER):
                client.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET #a = :v",
                    ExpressionAttributeNames={"#a": name},
                    ExpressionAttributeValues={":v": {"S": new_value}},
                )
                action = store.actions[name].name
                try:
                    with _quiet_expected_failure():
                        after = store.load(key)
                except SignatureVerificationError as exc:
                    tampering.append(
                        TamperResult(name, action, new_value, True, type(exc).__name__, str(exc))
                    )
                else:
                    tampering.append(
                        TamperResult(name, action, after.get(name, {}).get("S"), False)
                    )
        finally:
            if not embedded:
                client.delete_table(TableName=table)
        return DemoReport(
            endpoint=url,
            embedded=embedded,
            table=table,
            provider=provider_text,
            actions={name: act.name for name, act in store.actions.items()},
            plaintext=dict(DEMO_ITEM),
            stored=stored,
            material_description=description,
            read_back=read_back,
            tampering=tuple(tampering),
        )


# ----------------------------------------------------------------------------------------
# Rendering

_ACTION_TEXT = {
    CryptoAction.ENCRYPT_AND_SIGN.name: "encrypt + sign",
    CryptoAction.SIGN_ONLY.name: "sign only",
    CryptoAction.DO_NOTHING.name: "plain",
}


def _rows(item: Mapping[str, Any], actions: Mapping[str, str]) -> list[list[str]]:
    """Model fields in declaration order, then anything else, then the reserved attributes."""
    reserved = (MATERIAL_DESCRIPTION_ATTRIBUTE, SIGNATURE_ATTRIBUTE)
    fields = list(actions)
    order = [n for n in fields if n in item]
    order += sorted(n for n in item if n not in actions and n not in reserved)
    order += [n for n in reserved if n in item]
    rows = []
    for name in order:
        if name == SIGNATURE_ATTRIBUTE:
            role = "signature"
        elif name == MATERIAL_DESCRIPTION_ATTRIBUTE:
            role = "material description"
        else:
            role = _ACTION_TEXT.get(actions.get(name, ""), "?")
        rows.append([name, role, describe_value(item[name])])
    return rows


def render_text(report: DemoReport) -> str:
    """The human-readable demo output, as plain text."""
    return render_plain(demo_document(report))


def demo_document(report: DemoReport) -> Document:
    """The human-readable demo output: one table per item, then the tampering results."""
    where = (
        f"embedded DynamoDB + KMS API (moto, in this process) at {report.endpoint}"
        if report.embedded
        else f"DynamoDB API at {report.endpoint}"
    )
    headers = ("attribute", "protection", "value")
    protection = frozenset({"protection"})
    out: list[str | Table] = [
        "pynamodb-encryption demo",
        "",
        f"Server:   {where}",
        f"Table:    {report.table}",
        f"Provider: {report.provider}",
        "Model:    class Patient(EncryptedModel): patient_id = hash key (signed),",
        "          ssn, diagnosis = EncryptedAttribute, plan = SignedAttribute, ward = plain",
        "",
        "1. The item you save (plaintext, never leaves this process)",
        Table(headers, _rows(report.plaintext, report.actions), protection),
        "",
        "2. The raw item as DynamoDB stores it (read with a plain boto3 client)",
        Table(headers, _rows(report.stored, report.actions), protection),
        "",
        "   Material description (stored in the clear, tells a reader how to decrypt):",
        Table(
            ("entry", "value"),
            [[k, _short(v)] for k, v in sorted(report.material_description.items())],
        ),
        "",
        "3. The item read back: signature verified, values decrypted",
        Table(headers, _rows(report.read_back, report.actions), protection),
        "",
        "4. Tampering with the stored item (a raw UpdateItem, bypassing the library)",
    ]
    for result in report.tampering:
        label = _ACTION_TEXT.get(result.action, result.action)
        out.append(f"   set {result.attribute!r} ({label}) to {result.new_value!r}:")
        if result.detected:
            out.append(f"     DETECTED  {result.error}: {result.message}")
        else:
            out.append(
                "     not detected: the read succeeds, because plain (DO_NOTHING) attributes "
                "are neither encrypted nor signed"
            )
    out += [
        "",
        "Encrypted attributes are unreadable in storage, signed ones cannot be changed without "
        "detection,",
        "and plain ones are not protected at all. Attribute names and keys stay visible.",
    ]
    return out


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def report_json(report: DemoReport) -> dict[str, Any]:
    """The ``--json`` document (binary values base64-encoded)."""
    return {
        "endpoint": report.endpoint,
        "embedded": report.embedded,
        "table": report.table,
        "provider": report.provider,
        "actions": dict(report.actions),
        "plaintext": jsonable_item(report.plaintext),
        "stored": jsonable_item(report.stored),
        "material_description": dict(report.material_description),
        "read_back": jsonable_item(report.read_back),
        "tampering": [
            {
                "attribute": t.attribute,
                "action": t.action,
                "new_value": t.new_value,
                "detected": t.detected,
                "error": t.error,
                "message": t.message,
            }
            for t in report.tampering
        ],
    }


def run(args: argparse.Namespace) -> int:
    """Entry point of ``pynamodb-encryption demo``."""
    report = run_demo(
        endpoint_url=args.endpoint_url,
        region=args.region,
        provider_kind=args.provider,
        kms_endpoint_url=args.kms_endpoint_url,
    )
    if args.json:
        dump_json(report_json(report))
    else:
        print_document(demo_document(report))
    # The demo succeeds when the signed change was caught; anything else is a bug worth a
    # non-zero exit.
    caught = any(t.detected for t in report.tampering if t.attribute == SIGNED_TAMPER[0])
    return 0 if caught else 1
