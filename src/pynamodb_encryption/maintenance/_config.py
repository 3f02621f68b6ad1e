"""Build a materials provider from a JSON configuration (used by the CLI and by jobs).

Keys are *referenced* (a file or an environment variable), never written inline, so that a
configuration file can be checked in or printed without leaking anything. Every error names
the offending field and never its value.

Shape::

    {
      "provider": "static" | "wrapped" | "aws-kms" | "most-recent",
      "encryption_key":   {"file": "aes.key", "algorithm": "AES"},        # static
      "decryption_key":   {...},                                          # static
      "signing_key":      {"file": "hmac.key", "algorithm": "HmacSHA256"},
      "verification_key": {...},
      "wrapping_key":     {...}, "unwrapping_key": {...},                 # wrapped
      "material_description": {"k": "v"},                                 # static, wrapped
      "key_id": "...", "kms_endpoint_url": "...", "region": "...",        # aws-kms
      "meta_table": "...", "material_name": "...", "ttl_seconds": 60,     # most-recent
      "meta_provider": {nested config}, "dynamodb_endpoint_url": "...",
      "current": {nested config}, "current_id": "2",                      # key-rotation
      "previous": {"1": {nested config}}, "untagged": {nested config},
      "description_key": "key-id"
    }

A key entry is ``{"file": PATH, "algorithm": ALG}`` (raw bytes for symmetric keys, PEM for
RSA; a relative path is resolved against the configuration file's folder) or
``{"env": "VAR", "algorithm": ALG}`` (base64 for symmetric keys, PEM text for RSA).
"""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import functools
import json
import os
import stat
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from ..core import MaterialsProvider, RsaPrivateKey, RsaPublicKey, SymmetricKey
from ..errors import ConfigurationError, PynamoDBEncryptionError
from ..providers import (
    AwsKmsMaterialsProvider,
    MetaStore,
    MostRecentProvider,
    StaticMaterialsProvider,
    WrappedMaterialsProvider,
)

__all__ = [
    "PROVIDER_KINDS",
    "InsecureKeyFileWarning",
    "KeyFilePolicy",
    "current_check_for_config",
    "load_key",
    "provider_config_schema",
    "provider_from_config",
    "read_provider_config",
]

PROVIDER_KINDS = ("static", "wrapped", "aws-kms", "most-recent", "key-rotation")

_KEY_FIELDS = (
    "encryption_key",
    "decryption_key",
    "signing_key",
    "verification_key",
    "wrapping_key",
    "unwrapping_key",
)
#: The published JSON Schema of provider config files (shipped in the package). The fields
#: each provider kind accepts are read from it, so the schema and the reader cannot drift.
SCHEMA_RESOURCE = "provider-config.schema.json"


def provider_config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of provider config files, as a parsed mapping."""
    return copy.deepcopy(_schema())


@functools.cache
def _schema() -> dict[str, Any]:
    from importlib.resources import files

    text = files(__package__).joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def _allowed_fields(kind: str) -> frozenset[str]:
    """The fields a config of provider ``kind`` may hold (from the schema)."""
    return frozenset(_schema()["$defs"][kind]["properties"])


_SYMMETRIC_ALGORITHMS = frozenset(
    {"AES", "AESWrap", "HmacSHA224", "HmacSHA256", "HmacSHA384", "HmacSHA512"}
)
_RSA_ALGORITHMS = frozenset(
    {"RSA", "SHA224withRSA", "SHA256withRSA", "SHA384withRSA", "SHA512withRSA"}
)

Key = SymmetricKey | RsaPrivateKey | RsaPublicKey

#: What to do with a secret key file that its group or other users can read:
#: ``"warn"`` (an `InsecureKeyFileWarning`), ``"refuse"`` (a `ConfigurationError`), or
#: ``"ignore"``.
KeyFilePolicy = Literal["warn", "refuse", "ignore"]


class InsecureKeyFileWarning(UserWarning):
    """A secret key file is readable by its group or by other users (``chmod 600`` it)."""


def suggest(name: str, allowed: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the allowed name closest to ``name``, or nothing."""
    close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_config(
    config: str | os.PathLike[str] | Mapping[str, Any],
    base_dir: str | os.PathLike[str] | None,
) -> tuple[Mapping[str, Any], Path]:
    """The parsed configuration and the folder its relative key paths are resolved against:
    ``base_dir``, else the file's folder, else (for a mapping) the current directory."""
    if isinstance(config, Mapping):
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
        return config, folder
    path = Path(config)
    mapping = _read_json(path)
    return mapping, Path(base_dir) if base_dir is not None else path.resolve().parent


def provider_from_config(
    config: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    dynamodb_client: Any = None,
    kms_client: Any = None,
    insecure_key_files: KeyFilePolicy = "warn",
) -> MaterialsProvider:
    """Build the materials provider a JSON configuration describes.

    Args:
        config: path of a JSON file, or the already parsed mapping.
        base_dir: folder that relative key paths are resolved against. Defaults to the
            configuration file's folder, or the current directory for a mapping.
        dynamodb_client: boto3 DynamoDB client for a ``most-recent`` meta store, used when the
            configuration names neither ``dynamodb_endpoint_url`` nor ``region``.
        kms_client: boto3 KMS client for ``aws-kms``, used when the configuration names
            neither ``kms_endpoint_url`` nor ``region``.
        insecure_key_files: a secret key file (symmetric or RSA private key) that its group
            or other users can read is a leak waiting to happen: ``"warn"`` (default) emits an
            `InsecureKeyFileWarning`, ``"refuse"`` raises `ConfigurationError`, ``"ignore"``
            says nothing (e.g. on a file system without POSIX modes).

    Returns:
        A `MaterialsProvider`. Building it does no network
        I/O: clients are created, but nothing is called until items are encrypted.

    Raises:
        ConfigurationError: the configuration is unreadable or invalid; the message names the
            field concerned and never contains a key or a value.
    """
    mapping, folder = load_config(config, base_dir)
    if insecure_key_files not in ("warn", "refuse", "ignore"):
        raise ConfigurationError("insecure_key_files must be 'warn', 'refuse' or 'ignore'")
    return _build(
        mapping,
        folder=folder,
        prefix="",
        dynamodb_client=dynamodb_client,
        kms_client=kms_client,
        key_files=insecure_key_files,
    )


def current_check_for_config(
    config: str | os.PathLike[str] | Mapping[str, Any], *, kms_client: Any = None
) -> Any:
    """The re-encryption "already current" check that suits a *new* provider configuration.

    ``aws-kms`` gets a `KmsKeyCheck` on its
    ``key_id`` (a KMS key change is invisible in the material description); every other
    provider gets `same_material_description`.
    """
    from ._reencrypt import KmsKeyCheck, same_material_description

    mapping = config if isinstance(config, Mapping) else _read_json(Path(config))
    if mapping.get("provider") != "aws-kms":
        return same_material_description
    key_id = _text(mapping, "key_id", "", required=True)
    assert key_id is not None
    endpoint = _text(mapping, "kms_endpoint_url", "", required=False)
    region = _text(mapping, "region", "", required=False)
    client = kms_client
    if client is None or endpoint is not None or region is not None:
        client = _client("kms", endpoint, region, "region")
    return KmsKeyCheck(client, key_id)


def read_provider_config(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """Parse a provider configuration file (JSON object) without building anything.

    Raises:
        ConfigurationError: the file cannot be read, is not UTF-8 JSON, or not an object. The
            message names the file and the line of a syntax error, never its content.
    """
    return _read_json(Path(path))


def _read_json(path: Path) -> Mapping[str, Any]:
    name = str(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the provider configuration file {name!r}: "
            f"{exc.strerror or type(exc).__name__}"
        ) from exc
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"the provider configuration file {name!r} is not UTF-8 text"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        # The JSON error position is safe; its message could quote content, so keep it out.
        line = getattr(exc, "lineno", None)
        where = f" (line {line}, column {getattr(exc, 'colno', '?')})" if line is not None else ""
        truncated = (
            " (truncated?)"
            if not text.strip() or getattr(exc, "pos", 0) >= len(text.rstrip())
            else ""
        )
        raise ConfigurationError(
            f"the provider configuration file {name!r} is not valid JSON{where}{truncated}"
        ) from None
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"the provider configuration file {name!r} must hold a JSON object"
        )
    return data


def _field(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _build(
    config: Mapping[str, Any],
    *,
    folder: Path,
    prefix: str,
    dynamodb_client: Any,
    kms_client: Any,
    key_files: KeyFilePolicy = "warn",
) -> MaterialsProvider:
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"config field {prefix.rstrip('.') or '(root)'!r} must be an object"
        )
    kind = config.get("provider")
    if kind not in PROVIDER_KINDS:
        hint = suggest(kind, PROVIDER_KINDS) if isinstance(kind, str) else ""
        raise ConfigurationError(
            f"config field {_field(prefix, 'provider')!r} is missing or unknown{hint}: use one "
            f"of {', '.join(PROVIDER_KINDS)}"
        )
    allowed = _allowed_fields(kind)
    unknown = sorted(str(u) for u in set(config) - allowed)
    if unknown:
        names = ", ".join(repr(_field(prefix, u)) + suggest(u, allowed) for u in unknown)
        raise ConfigurationError(
            f"config field(s) {names} not allowed for provider {kind!r}; allowed: "
            f"{', '.join(sorted(allowed))}"
        )
    try:
        if kind == "static":
            return _static(config, folder=folder, prefix=prefix, key_files=key_files)
        if kind == "wrapped":
            return _wrapped(config, folder=folder, prefix=prefix, key_files=key_files)
        if kind == "aws-kms":
            return _aws_kms(config, prefix=prefix, kms_client=kms_client)
        if kind == "key-rotation":
            return _key_rotation(
                config,
                folder=folder,
                prefix=prefix,
                dynamodb_client=dynamodb_client,
                kms_client=kms_client,
                key_files=key_files,
            )
        return _most_recent(
            config,
            folder=folder,
            prefix=prefix,
            dynamodb_client=dynamodb_client,
            kms_client=kms_client,
            key_files=key_files,
        )
    except _ProviderRejected as rejected:
        exc = rejected.error
        where = f" at {prefix.rstrip('.')!r}" if prefix else ""
        raise ConfigurationError(
            f"the {kind!r} provider{where} rejected its configuration: {exc.message}",
            attribute=exc.attribute,
        ) from exc


class _ProviderRejected(Exception):
    """Internal: a provider constructor refused the keys it was given."""

    def __init__(self, error: PynamoDBEncryptionError) -> None:
        super().__init__(error.message)
        self.error = error


def _construct(factory: Any, /, **kwargs: Any) -> MaterialsProvider:
    try:
        provider: MaterialsProvider = factory(**kwargs)
    except PynamoDBEncryptionError as exc:
        raise _ProviderRejected(exc) from exc
    return provider


def _keys(
    config: Mapping[str, Any], folder: Path, prefix: str, key_files: KeyFilePolicy
) -> dict[str, Key | None]:
    keys: dict[str, Key | None] = {}
    for name in _KEY_FIELDS:
        entry = config.get(name)
        keys[name] = (
            None
            if entry is None
            else load_key(entry, _field(prefix, name), folder, insecure_key_files=key_files)
        )
    return keys


def _description(config: Mapping[str, Any], prefix: str) -> dict[str, str] | None:
    raw = config.get("material_description")
    if raw is None:
        return None
    name = _field(prefix, "material_description")
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ConfigurationError(f"config field {name!r} must map strings to strings")
    return dict(raw)


def _expect(key: Key | None, field: str, *types: type) -> Any:
    if key is not None and not isinstance(key, types):
        wanted = " or ".join(_KIND_NAMES[t] for t in types)
        raise ConfigurationError(f"config field {field!r} must hold {wanted}")
    return key


_KIND_NAMES: dict[type, str] = {
    SymmetricKey: "a symmetric key",
    RsaPrivateKey: "an RSA private key",
    RsaPublicKey: "an RSA public key",
}


def _static(
    config: Mapping[str, Any], *, folder: Path, prefix: str, key_files: KeyFilePolicy
) -> MaterialsProvider:
    keys = _keys(config, folder, prefix, key_files)
    for name in ("wrapping_key", "unwrapping_key"):
        if keys[name] is not None:  # pragma: no cover - rejected earlier as unknown fields
            raise ConfigurationError(f"config field {_field(prefix, name)!r} is not used here")
    verification = keys["verification_key"]
    if isinstance(verification, RsaPrivateKey):
        verification = verification.public_key()
    return _construct(
        StaticMaterialsProvider,
        encryption_key=_expect(
            keys["encryption_key"], _field(prefix, "encryption_key"), SymmetricKey
        ),
        decryption_key=_expect(
            keys["decryption_key"], _field(prefix, "decryption_key"), SymmetricKey
        ),
        signing_key=_expect(
            keys["signing_key"], _field(prefix, "signing_key"), SymmetricKey, RsaPrivateKey
        ),
        verification_key=_expect(
            verification, _field(prefix, "verification_key"), SymmetricKey, RsaPublicKey
        ),
        material_description=_description(config, prefix),
    )


def _wrapped(
    config: Mapping[str, Any], *, folder: Path, prefix: str, key_files: KeyFilePolicy
) -> MaterialsProvider:
    keys = _keys(config, folder, prefix, key_files)
    verification = keys["verification_key"]
    if isinstance(verification, RsaPrivateKey):
        verification = verification.public_key()
    return _construct(
        WrappedMaterialsProvider,
        wrapping_key=keys["wrapping_key"],
        unwrapping_key=_expect(
            keys["unwrapping_key"], _field(prefix, "unwrapping_key"), SymmetricKey, RsaPrivateKey
        ),
        signing_key=_expect(
            keys["signing_key"], _field(prefix, "signing_key"), SymmetricKey, RsaPrivateKey
        ),
        verification_key=_expect(
            verification, _field(prefix, "verification_key"), SymmetricKey, RsaPublicKey
        ),
        material_description=_description(config, prefix),
    )


def _text(config: Mapping[str, Any], name: str, prefix: str, *, required: bool) -> str | None:
    value = config.get(name)
    if value is None:
        if required:
            raise ConfigurationError(f"config field {_field(prefix, name)!r} is required")
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"config field {_field(prefix, name)!r} must be a non-empty string"
        )
    return value


def _client(service: str, endpoint_url: str | None, region: str | None, field: str) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=region)
        if session.region_name is None:
            raise ConfigurationError(
                f"config field {field!r} is required (no AWS region is configured)"
            )
        make_client: Any = session.client  # one call site for both services
        return make_client(service, endpoint_url=endpoint_url)
    except BotoCoreError as exc:
        raise ConfigurationError(
            f"cannot create the {service} client for config field {field!r}: {type(exc).__name__}"
        ) from exc
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise ConfigurationError(
            f"cannot create the {service} client: the endpoint URL is not valid (give "
            "http(s)://HOST[:PORT])"
        ) from exc


def _aws_kms(config: Mapping[str, Any], *, prefix: str, kms_client: Any) -> MaterialsProvider:
    key_id = _text(config, "key_id", prefix, required=True)
    endpoint = _text(config, "kms_endpoint_url", prefix, required=False)
    region = _text(config, "region", prefix, required=False)
    assert key_id is not None
    # An endpoint or region written in the configuration is deliberate: it wins over the
    # caller's default client.
    client = kms_client
    if client is None or endpoint is not None or region is not None:
        client = _client("kms", endpoint, region, _field(prefix, "region"))
    return _construct(AwsKmsMaterialsProvider, key_id=key_id, kms_client=client)


def _most_recent(
    config: Mapping[str, Any],
    *,
    folder: Path,
    prefix: str,
    dynamodb_client: Any,
    kms_client: Any,
    key_files: KeyFilePolicy,
) -> MaterialsProvider:
    meta_table = _text(config, "meta_table", prefix, required=True)
    material_name = _text(config, "material_name", prefix, required=True)
    ttl = config.get("ttl_seconds", 60)
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl < 0:
        raise ConfigurationError(
            f"config field {_field(prefix, 'ttl_seconds')!r} must be a number >= 0"
        )
    nested = config.get("meta_provider")
    if nested is None:
        raise ConfigurationError(f"config field {_field(prefix, 'meta_provider')!r} is required")
    inner = _build(
        nested,
        folder=folder,
        prefix=_field(prefix, "meta_provider."),
        dynamodb_client=dynamodb_client,
        kms_client=kms_client,
        key_files=key_files,
    )
    endpoint = _text(config, "dynamodb_endpoint_url", prefix, required=False)
    region = _text(config, "region", prefix, required=False)
    assert meta_table is not None
    assert material_name is not None
    client = dynamodb_client
    if client is None or endpoint is not None or region is not None:
        client = _client("dynamodb", endpoint, region, _field(prefix, "region"))
    try:
        store = MetaStore(table_name=meta_table, materials_provider=inner, dynamodb_client=client)
    except PynamoDBEncryptionError as exc:
        raise _ProviderRejected(exc) from exc
    return _construct(
        MostRecentProvider, meta_store=store, material_name=material_name, ttl_seconds=ttl
    )


def _key_rotation(
    config: Mapping[str, Any],
    *,
    folder: Path,
    prefix: str,
    dynamodb_client: Any,
    kms_client: Any,
    key_files: KeyFilePolicy,
) -> MaterialsProvider:
    from ._rotation import DEFAULT_KEY_ID_ENTRY, KeyRotationProvider

    def nested(value: Any, name: str) -> MaterialsProvider:
        return _build(
            value,
            folder=folder,
            prefix=_field(prefix, f"{name}."),
            dynamodb_client=dynamodb_client,
            kms_client=kms_client,
            key_files=key_files,
        )

    current_id = _text(config, "current_id", prefix, required=True)
    assert current_id is not None
    if config.get("current") is None:
        raise ConfigurationError(f"config field {_field(prefix, 'current')!r} is required")
    previous_raw = config.get("previous") or {}
    if not isinstance(previous_raw, Mapping):
        raise ConfigurationError(
            f"config field {_field(prefix, 'previous')!r} must map key ids to configurations"
        )
    previous = {str(k): nested(v, f"previous.{k}") for k, v in previous_raw.items()}
    untagged_raw = config.get("untagged")
    description_key = config.get("description_key", DEFAULT_KEY_ID_ENTRY)
    return _construct(
        KeyRotationProvider,
        current=nested(config["current"], "current"),
        current_id=current_id,
        previous=previous,
        untagged=None if untagged_raw is None else nested(untagged_raw, "untagged"),
        description_key=description_key,
    )


def load_key(
    entry: Any,
    field: str,
    folder: Path | None = None,
    *,
    insecure_key_files: KeyFilePolicy = "warn",
) -> Key:
    """Load one key entry (``{"file"|"env": ..., "algorithm": ...}``).

    Args:
        entry: the parsed entry.
        field: the configuration field, for error messages.
        folder: what a relative ``file`` is resolved against (default: current directory).
        insecure_key_files: what to do when a secret key file is readable by its group or
            others (see `provider_from_config`).

    Raises:
        ConfigurationError: naming ``field``; never the key bytes or the variable's value.
    """
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"config field {field!r} must be an object with 'file' or 'env'")
    entries = ("file", "env", "algorithm")
    unknown = sorted(str(u) for u in set(entry) - set(entries))
    if unknown:
        names = ", ".join(repr(u) + suggest(u, entries) for u in unknown)
        raise ConfigurationError(
            f"config field {field!r} has unknown entries: {names}; allowed: file, env, algorithm"
        )
    algorithm = entry.get("algorithm")
    if algorithm not in _SYMMETRIC_ALGORITHMS and algorithm not in _RSA_ALGORITHMS:
        every = _SYMMETRIC_ALGORITHMS | _RSA_ALGORITHMS
        hint = suggest(algorithm, every) if isinstance(algorithm, str) else ""
        raise ConfigurationError(
            f"config field {field + '.algorithm'!r} is missing or unknown{hint}: use one of "
            f"{', '.join(sorted(every))}"
        )
    has_file, has_env = "file" in entry, "env" in entry
    if has_file == has_env:
        raise ConfigurationError(f"config field {field!r} needs exactly one of 'file' or 'env'")
    symmetric = algorithm in _SYMMETRIC_ALGORITHMS
    if has_file:
        name = entry["file"]
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"config field {field + '.file'!r} must be a path")
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = (folder or Path.cwd()) / path
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"config field {field + '.file'!r}: cannot read the key file "
                f"({exc.strerror or type(exc).__name__})"
            ) from exc
        if insecure_key_files != "ignore" and (symmetric or b"PRIVATE KEY" in data):
            _check_key_file_mode(path, field, insecure_key_files)
    else:
        var = entry["env"]
        if not isinstance(var, str) or not var:
            raise ConfigurationError(f"config field {field + '.env'!r} must be a variable name")
        text = os.environ.get(var)
        if text is None:
            raise ConfigurationError(
                f"config field {field + '.env'!r}: the environment variable is not set"
            )
        if symmetric:
            try:
                data = base64.b64decode(text.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError(
                    f"config field {field + '.env'!r}: the variable is not valid base64"
                ) from None
        else:
            data = text.encode("utf-8")
    try:
        if symmetric:
            return SymmetricKey(data, algorithm)
        if b"PRIVATE KEY" in data:
            return RsaPrivateKey.from_pem(data, algorithm)
        return RsaPublicKey.from_pem(data, algorithm)
    except ConfigurationError as exc:
        raise ConfigurationError(f"config field {field!r}: {exc.message}") from exc


def _check_key_file_mode(path: Path, field: str, policy: KeyFilePolicy) -> None:
    """Warn about (or refuse) a secret key file that its group or other users can read."""
    if os.name != "posix":  # no POSIX permission bits to look at
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:  # pragma: no cover - it was just read
        return
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    message = (
        f"config field {field + '.file'!r}: the key file {str(path)!r} is accessible by its "
        f"group or other users (mode {mode:04o}); restrict it with: chmod 600 {str(path)!r}"
    )
    if policy == "refuse":
        raise ConfigurationError(message)
    warnings.warn(message, InsecureKeyFileWarning, stacklevel=4)
