"""Build a DB-ESDK keyring (and the table options that go with it) from a JSON configuration:
the keyring entries of provider config files, used by the re-encryption job and the CLI.

Keys are *referenced* (a file or an environment variable), never written inline, exactly as in
provider configurations; every error names the offending field, never its value. Shape::

    {
      "keyring": "raw-aes" | "raw-rsa" | "aws-kms" | "hierarchical",
      "key_namespace": "...", "key_name": "...",                        # raw-aes, raw-rsa
      "wrapping_key": {"file": "aes.key"} | {"env": "VAR"},             # raw-aes (16/24/32 B)
      "private_key": {"file": "rsa.pem"}, "public_key": {...},          # raw-rsa (PEM)
      "padding": "OAEP_SHA256_MGF1",                                    # raw-rsa
      "key_id": "...",                                                  # aws-kms
      "key_store_table": "...", "logical_key_store_name": "...",        # hierarchical
      "kms_key_id": "...", "branch_key_id": "...", "ttl_seconds": 600,
      "kms_endpoint_url": "...", "dynamodb_endpoint_url": "...", "region": "...",
      "logical_table_name": "...", "algorithm_suite": "ALG_...",       # table options
      "allowed_unsigned_attributes": ["..."], "allowed_unsigned_attribute_prefix": ":"
    }

A key entry is ``{"file": PATH}`` (raw bytes for AES, PEM for RSA; relative to the
configuration file's folder) or ``{"env": "VAR"}`` (base64 for AES, PEM text for RSA).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, PynamoDBEncryptionError
from ..keyrings import (
    AwsKmsKeyring,
    HierarchicalKeyring,
    KeyStore,
    RawAesKeyring,
    RawRsaKeyring,
    RsaPadding,
)
from ..structured import DbeAlgorithmSuite, Keyring
from ._config import (
    KeyFilePolicy,
    _check_key_file_mode,
    _client,
    _schema,
    load_config,
    suggest,
)

__all__ = ["KEYRING_KINDS", "KeyringConfig", "is_keyring_config", "keyring_from_config"]

KEYRING_KINDS = ("raw-aes", "raw-rsa", "aws-kms", "hierarchical")


@functools.cache
def _allowed_fields(kind: str) -> frozenset[str]:
    """The fields a keyring config of ``kind`` may hold (from the published schema)."""
    return frozenset(_schema()["$defs"][f"keyring-{kind}"]["properties"])


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyringConfig:
    """A keyring and the DB-ESDK table options a configuration file names."""

    keyring: Keyring
    logical_table_name: str | None = None
    algorithm_suite: DbeAlgorithmSuite | None = None
    allowed_unsigned_attributes: tuple[str, ...] = ()
    allowed_unsigned_attribute_prefix: str | None = None


def is_keyring_config(config: Mapping[str, Any]) -> bool:
    """Whether a parsed configuration describes a DB-ESDK keyring (not a legacy provider)."""
    return isinstance(config, Mapping) and "keyring" in config


def keyring_from_config(
    config: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    dynamodb_client: Any = None,
    kms_client: Any = None,
    insecure_key_files: KeyFilePolicy = "warn",
) -> KeyringConfig:
    """Build the keyring a JSON configuration describes (no network I/O).

    Raises:
        ConfigurationError: the configuration is unreadable or invalid; the message names the
            field concerned and never contains a key or a value.
    """
    mapping, folder = load_config(config, base_dir)
    kind = mapping.get("keyring")
    if kind not in KEYRING_KINDS:
        hint = suggest(kind, KEYRING_KINDS) if isinstance(kind, str) else ""
        raise ConfigurationError(
            f"config field 'keyring' is missing or unknown{hint}: use one of "
            f"{', '.join(KEYRING_KINDS)}"
        )
    allowed = _allowed_fields(kind)
    unknown = sorted(str(u) for u in set(mapping) - allowed)
    if unknown:
        names = ", ".join(repr(u) + suggest(u, allowed) for u in unknown)
        raise ConfigurationError(
            f"config field(s) {names} not allowed for keyring {kind!r}; allowed: "
            f"{', '.join(sorted(allowed))}"
        )
    try:
        if kind == "raw-aes":
            keyring: Keyring = RawAesKeyring(
                key_namespace=_text(mapping, "key_namespace"),
                key_name=_text(mapping, "key_name"),
                wrapping_key=_secret(mapping, "wrapping_key", folder, insecure_key_files, True),
            )
        elif kind == "raw-rsa":
            padding_name = mapping.get("padding", RsaPadding.OAEP_SHA256.value)
            paddings = {p.value: p for p in RsaPadding}
            if padding_name not in paddings:
                raise ConfigurationError(
                    f"config field 'padding' is unknown: use one of {', '.join(paddings)}"
                )
            private = public = None
            if "private_key" in mapping:
                private = _secret(mapping, "private_key", folder, insecure_key_files, False)
            if "public_key" in mapping:
                public = _secret(mapping, "public_key", folder, "ignore", False)
            elif private is not None:
                # A private key alone also encrypts: its public half is derived here.
                public = _public_half(private)
            keyring = RawRsaKeyring(
                key_namespace=_text(mapping, "key_namespace"),
                key_name=_text(mapping, "key_name"),
                private_key=private,
                public_key=public,
                padding=paddings[padding_name],
            )
        elif kind == "aws-kms":
            keyring = AwsKmsKeyring(
                kms_key_id=_text(mapping, "key_id"),
                kms_client=_kms(mapping, kms_client),
            )
        else:
            ddb = dynamodb_client
            endpoint = _optional_text(mapping, "dynamodb_endpoint_url")
            region = _optional_text(mapping, "region")
            if ddb is None or endpoint is not None or region is not None:
                ddb = _client("dynamodb", endpoint, region, "region")
            store = KeyStore(
                table_name=_text(mapping, "key_store_table"),
                logical_key_store_name=_text(mapping, "logical_key_store_name"),
                kms_key_id=_text(mapping, "kms_key_id"),
                dynamodb_client=ddb,
                kms_client=_kms(mapping, kms_client),
            )
            ttl = mapping.get("ttl_seconds", 600)
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0:
                raise ConfigurationError("config field 'ttl_seconds' must be a positive number")
            keyring = HierarchicalKeyring(
                key_store=store, branch_key_id=_text(mapping, "branch_key_id"), ttl_seconds=ttl
            )
    except ConfigurationError:
        raise
    except PynamoDBEncryptionError as exc:
        raise ConfigurationError(
            f"the {kind!r} keyring rejected its configuration: {exc.message}"
        ) from exc
    return _options(mapping, keyring)


def _options(mapping: Mapping[str, Any], keyring: Keyring) -> KeyringConfig:
    suite = None
    suite_name = mapping.get("algorithm_suite")
    if suite_name is not None:
        suites = {s.name: s for s in DbeAlgorithmSuite}
        if suite_name not in suites:
            raise ConfigurationError(
                f"config field 'algorithm_suite' is unknown: use one of {', '.join(suites)}"
            )
        suite = suites[suite_name]
    unsigned = mapping.get("allowed_unsigned_attributes", [])
    if not isinstance(unsigned, list) or not all(isinstance(n, str) and n for n in unsigned):
        raise ConfigurationError(
            "config field 'allowed_unsigned_attributes' must be a list of attribute names"
        )
    return KeyringConfig(
        keyring=keyring,
        logical_table_name=_optional_text(mapping, "logical_table_name"),
        algorithm_suite=suite,
        allowed_unsigned_attributes=tuple(unsigned),
        allowed_unsigned_attribute_prefix=_optional_text(
            mapping, "allowed_unsigned_attribute_prefix"
        ),
    )


def _public_half(private_pem: bytes) -> bytes | None:
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError):
        return None  # the keyring reports the unreadable private key itself
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _optional_text(mapping: Mapping[str, Any], name: str) -> str | None:
    value = mapping.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"config field {name!r} must be a non-empty string")
    return value


def _text(mapping: Mapping[str, Any], name: str) -> str:
    value = _optional_text(mapping, name)
    if value is None:
        raise ConfigurationError(f"config field {name!r} is required")
    return value


def _kms(mapping: Mapping[str, Any], kms_client: Any) -> Any:
    endpoint = _optional_text(mapping, "kms_endpoint_url")
    region = _optional_text(mapping, "region")
    if kms_client is None or endpoint is not None or region is not None:
        return _client("kms", endpoint, region, "region")
    return kms_client


def _secret(
    mapping: Mapping[str, Any], field: str, folder: Path, policy: KeyFilePolicy, raw: bool
) -> bytes:
    """A key's bytes: raw (AES) or PEM (RSA), from a file or an environment variable."""
    entry = mapping.get(field)
    if not isinstance(entry, Mapping) or ("file" in entry) == ("env" in entry):
        raise ConfigurationError(f"config field {field!r} needs exactly one of 'file' or 'env'")
    unknown = sorted(str(u) for u in set(entry) - {"file", "env"})
    if unknown:
        raise ConfigurationError(f"config field {field!r} has unknown entries: {unknown}")
    if "file" in entry:
        name = entry["file"]
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"config field {field + '.file'!r} must be a path")
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = folder / path
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"config field {field + '.file'!r}: cannot read the key file "
                f"({exc.strerror or type(exc).__name__})"
            ) from exc
        if policy != "ignore" and (raw or b"PRIVATE KEY" in data):
            _check_key_file_mode(path, field, policy)
        return data
    var = entry["env"]
    if not isinstance(var, str) or not var:
        raise ConfigurationError(f"config field {field + '.env'!r} must be a variable name")
    text = os.environ.get(var)
    if text is None:
        raise ConfigurationError(
            f"config field {field + '.env'!r}: the environment variable is not set"
        )
    if not raw:
        return text.encode("utf-8")
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            f"config field {field + '.env'!r}: the variable is not valid base64"
        ) from None
