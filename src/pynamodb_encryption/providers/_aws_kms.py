"""The Direct AWS KMS provider: one KMS data key per item, two keys derived from it by HKDF.

Byte-compatible with the reference's ``AwsKmsCryptographicMaterialsProvider`` and Java's
``DirectKmsMaterialProvider`` (wire-format notes, section 6.3).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import _telemetry
from ..core import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    SymmetricKey,
)
from ..core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_KMS_EC_ATTRIBUTES,
    MD_SIGNING_KEY_ALGORITHM,
)
from ..errors import (
    ConfigurationError,
    DecryptionError,
    InvalidMaterialDescriptionError,
    ProviderError,
)
from ._cache import DerivedKeys, KmsDecryptCache
from ._common import (
    check_context,
    check_description,
    client_method,
    decode_b64,
    error_code,
    parse_algorithm,
)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

__all__ = [
    "AwsKmsMaterialsProvider",
    "derive_keys",
    "kms_encryption_context",
]

DEFAULT_CONTENT_ALGORITHM = "AES/256"
DEFAULT_SIGNING_ALGORITHM = "HmacSHA256/256"
#: KMS encryption context keys (exact strings of the format).
EC_CONTENT_ALGORITHM = "*amzn-ddb-env-alg*"
EC_SIGNING_ALGORITHM = "*amzn-ddb-sig-alg*"
EC_TABLE_NAME = "*aws-kms-table*"
#: ``aws-kms-ec-attr`` value: the KMS encryption context covers the key attributes.
KEY_COVERAGE = "*keys*"
WRAP_ALGORITHM_KMS = "kms"
HKDF_INFO_ENCRYPTION = b"Encryption"
HKDF_INFO_SIGNING = b"Signing"
#: Bytes of initial keying material asked from KMS (GenerateDataKey NumberOfBytes).
_IKM_BYTES = 32
_AES_BITS = (128, 192, 256)
_HMAC_NAMES = ("HmacSHA224", "HmacSHA256", "HmacSHA384", "HmacSHA512")
_MIN_WRITE_MAC_BITS = 128


def _check_content_algorithm(description: str) -> tuple[str, int]:
    name, bits = parse_algorithm(description)
    if name != "AES" or bits not in _AES_BITS:
        raise InvalidMaterialDescriptionError("unsupported content key algorithm")
    return name, bits


def _check_signing_algorithm(description: str) -> tuple[str, int]:
    name, bits = parse_algorithm(description)
    if name not in _HMAC_NAMES or bits <= 0 or bits % 8:
        raise InvalidMaterialDescriptionError("unsupported signing key algorithm")
    return name, bits


def derive_keys(
    initial_material: bytes,
    *,
    content_algorithm: str = DEFAULT_CONTENT_ALGORITHM,
    signing_algorithm: str = DEFAULT_SIGNING_ALGORITHM,
) -> DerivedKeys:
    """The content key and MAC key of a KMS data key: HKDF-SHA256, no salt.

    ``info`` is ``b"Encryption"`` / ``b"Signing"``; the lengths come from the ``ALG/bits``
    descriptions (``AES/256``, ``HmacSHA256/256``).
    """
    enc_name, enc_bits = _check_content_algorithm(content_algorithm)
    mac_name, mac_bits = _check_signing_algorithm(signing_algorithm)
    enc = HKDF(hashes.SHA256(), enc_bits // 8, None, HKDF_INFO_ENCRYPTION).derive(initial_material)
    mac = HKDF(hashes.SHA256(), mac_bits // 8, None, HKDF_INFO_SIGNING).derive(initial_material)
    return DerivedKeys(
        encryption_key=SymmetricKey(enc, enc_name), mac_key=SymmetricKey(mac, mac_name)
    )


def _key_value(value: Any, name: str, table: str) -> str:
    """A key attribute as a KMS encryption context string: S as is, N raw, B base64."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in ("S", "N") and isinstance(inner, str):
            # N is taken as stored, not normalized: readers must see the same string.
            return inner
        if tag == "B" and isinstance(inner, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(inner)).decode("ascii")
    raise ConfigurationError(
        "a key attribute used in the KMS encryption context must be S, N or B",
        attribute=name,
        table=table,
    )


def kms_encryption_context(
    context: EncryptionContext, *, content_algorithm: str, signing_algorithm: str
) -> dict[str, str]:
    """The KMS encryption context for an item: algorithms, key values and table name.

    A key attribute missing from the item is left out (as the Python reference does).
    """
    ec = {EC_CONTENT_ALGORITHM: content_algorithm, EC_SIGNING_ALGORITHM: signing_algorithm}
    for name in (context.partition_key_name, context.sort_key_name):
        if name is not None and name in context.attributes:
            ec[name] = _key_value(context.attributes[name], name, context.table_name)
    if context.table_name is not None:
        ec[EC_TABLE_NAME] = context.table_name
    return ec


def _checked_data_key(plaintext: object, operation: str, table: str | None) -> bytes:
    """The data key KMS returned, refused unless it is exactly the 32 bytes asked for.

    Every writer (ours, the Python and Java references) asks for 32 bytes; anything else is a
    misbehaving client or endpoint, and HKDF would otherwise stretch even a 1-byte "key" into
    keys that look fine and protect nothing.
    """
    if not isinstance(plaintext, (bytes, bytearray, memoryview)):
        raise ProviderError(
            f"AWS KMS {operation} returned a data key that is not bytes", table=table
        )
    if len(plaintext) != _IKM_BYTES:
        # The length is not secret (it is fixed by the format); the bytes are never shown.
        raise ProviderError(
            f"AWS KMS {operation} returned a data key of {len(plaintext)} bytes, not {_IKM_BYTES}",
            table=table,
        )
    return bytes(plaintext)


def _region_from_key_id(key_id: str) -> str | None:
    # arn:aws:kms:<region>:<account>:key/<id> or :alias/<name>; bare ids and aliases have none.
    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        if len(parts) == 6 and parts[3]:
            return parts[3]
    return None


# IncorrectKeyException is AWS's answer to a KeyId that did not make the blob (moto answers
# AccessDeniedException, which on AWS means missing permissions: that stays a ProviderError).
_ITEM_DECRYPT_ERRORS = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})


class AwsKmsMaterialsProvider:
    """Direct AWS KMS: every item write asks KMS for a new data key (``GenerateDataKey``)
    and every read asks KMS to decrypt it (``Decrypt``), bound to the table and item keys
    through the KMS encryption context.

    Args:
        key_id: the KMS key (id, ARN, alias name or alias ARN) that protects the data keys.
        kms_client: a boto3 KMS client; by default one is created on first use, in the
            region of ``key_id`` if it is an ARN (otherwise boto3's default region).
        grant_tokens: KMS grant tokens passed with every request.
        material_description: extra entries stored with every item; ``amzn-ddb-env-alg``
            and ``amzn-ddb-sig-alg`` here choose the derived key algorithms (default
            ``AES/256`` and ``HmacSHA256/256``).
        decrypt_cache: an optional `KmsDecryptCache` for repeated reads (off by
            default; see its trade-offs).
        enforce_key_id: send ``key_id`` with every ``Decrypt`` (the default), so that only
            data keys of *this* KMS key are accepted. Without it (the reference library's
            behaviour) KMS decrypts with whichever key made the blob, so anyone who can write
            the table and use *some* key the reader may decrypt with can forge items that
            verify. Turn it off only to read items of several keys with one provider (e.g.
            after pointing an alias at a new key); prefer re-encrypting them.
    """

    __slots__ = (
        "_client",
        "_client_lock",
        "_content_algorithm",
        "_decrypt_cache",
        "_description",
        "_enforce_key_id",
        "_grant_tokens",
        "_key_id",
        "_signing_algorithm",
    )

    def __init__(
        self,
        *,
        key_id: str,
        kms_client: KMSClient | None = None,
        grant_tokens: Iterable[str] = (),
        material_description: Mapping[str, str] | None = None,
        decrypt_cache: KmsDecryptCache | None = None,
        enforce_key_id: bool = True,
    ) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a non-empty KMS key id, ARN or alias")
        if isinstance(grant_tokens, (str, bytes)) or not isinstance(grant_tokens, Iterable):
            raise ConfigurationError("grant_tokens must be a sequence of strings")
        tokens = tuple(grant_tokens)
        if not all(isinstance(token, str) for token in tokens):
            raise ConfigurationError("grant_tokens must be strings")
        if decrypt_cache is not None and not isinstance(decrypt_cache, KmsDecryptCache):
            raise ConfigurationError("decrypt_cache must be a KmsDecryptCache")
        description = check_description(material_description)
        content_algorithm = description.get(MD_CONTENT_KEY_ALGORITHM, DEFAULT_CONTENT_ALGORITHM)
        signing_algorithm = description.get(MD_SIGNING_KEY_ALGORITHM, DEFAULT_SIGNING_ALGORITHM)
        try:
            _check_content_algorithm(content_algorithm)
            _, mac_bits = _check_signing_algorithm(signing_algorithm)
        except InvalidMaterialDescriptionError as exc:
            raise ConfigurationError(
                f"material_description: {exc.message} ({MD_CONTENT_KEY_ALGORITHM} must be "
                f"AES/128|192|256, {MD_SIGNING_KEY_ALGORITHM} HmacSHA*/bits)"
            ) from exc
        if mac_bits < _MIN_WRITE_MAC_BITS:
            # Readers accept any size (the KMS encryption context binds it, so an attacker
            # cannot lower it), but this provider will not *write* items whose MAC key could
            # be brute-forced ("HmacSHA256/8" is a one-byte key).
            raise ConfigurationError(
                f"material_description: {MD_SIGNING_KEY_ALGORITHM} must give a MAC key of at "
                f"least {_MIN_WRITE_MAC_BITS} bits"
            )
        self._key_id = key_id
        self._enforce_key_id = bool(enforce_key_id)
        self._client: Any = kms_client
        self._client_lock = threading.Lock()
        self._grant_tokens = tokens
        self._description = MappingProxyType(description)
        self._content_algorithm = content_algorithm
        self._signing_algorithm = signing_algorithm
        self._decrypt_cache = decrypt_cache

    def __repr__(self) -> str:
        return (
            f"AwsKmsMaterialsProvider(key_id={self._key_id!r}, "
            f"grant_tokens={len(self._grant_tokens)}, decrypt_cache={self._decrypt_cache!r})"
        )

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def decrypt_cache(self) -> KmsDecryptCache | None:
        return self._decrypt_cache

    def _kms(self) -> Any:
        """The KMS client, created on first use (never in ``__init__``: no I/O there)."""
        client = self._client
        if client is not None:
            return client
        with self._client_lock:
            if self._client is None:
                try:
                    import boto3

                    self._client = boto3.client(
                        "kms", region_name=_region_from_key_id(self._key_id)
                    )
                except Exception as exc:
                    raise ProviderError("could not create a boto3 KMS client") from exc
            return self._client

    def _call(self, operation: str, table: str | None, **params: Any) -> Mapping[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._grant_tokens:
            params["GrantTokens"] = list(self._grant_tokens)
        method = client_method(self._kms(), operation, "kms_client must be a boto3 KMS client")
        try:
            with _telemetry.kms_call(operation, self._key_id, table):
                response: Mapping[str, Any] = method(**params)
        except ClientError as exc:
            code = error_code(exc)
            if operation == "decrypt" and code in _ITEM_DECRYPT_ERRORS:
                # Wrong encryption context (item moved), a tampered blob, or a data key made by
                # another KMS key than the one this provider enforces: the item is at fault.
                raise DecryptionError(
                    f"AWS KMS refused to decrypt the item's data key ({code})", table=table
                ) from exc
            raise ProviderError(f"AWS KMS {operation} failed ({code})", table=table) from exc
        except BotoCoreError as exc:
            raise ProviderError(
                f"AWS KMS {operation} failed ({type(exc).__name__})", table=table
            ) from exc
        return response

    # -- MaterialsProvider -------------------------------------------------------------

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        check_context(context)
        table = context.table_name
        ec = kms_encryption_context(
            context,
            content_algorithm=self._content_algorithm,
            signing_algorithm=self._signing_algorithm,
        )
        response = self._call(
            "generate_data_key",
            table,
            KeyId=self._key_id,
            NumberOfBytes=_IKM_BYTES,
            EncryptionContext=ec,
        )
        try:
            plaintext = response["Plaintext"]
            blob = response["CiphertextBlob"]
        except (KeyError, TypeError) as exc:
            raise ProviderError(
                "AWS KMS GenerateDataKey returned no data key", table=table
            ) from exc
        if not isinstance(blob, bytes) or not blob:
            raise ProviderError(
                "AWS KMS GenerateDataKey returned no encrypted data key", table=table
            )
        keys = derive_keys(
            _checked_data_key(plaintext, "GenerateDataKey", table),
            content_algorithm=self._content_algorithm,
            signing_algorithm=self._signing_algorithm,
        )
        description = dict(self._description)
        description.update(context.material_description)
        description.update(
            {
                MD_KMS_EC_ATTRIBUTES: KEY_COVERAGE,
                MD_KEY_WRAP_ALGORITHM: WRAP_ALGORITHM_KMS,
                MD_CONTENT_KEY_ALGORITHM: self._content_algorithm,
                MD_SIGNING_KEY_ALGORITHM: self._signing_algorithm,
                MD_ENCRYPTED_KEY: base64.b64encode(blob).decode("ascii"),
            }
        )
        return EncryptionMaterials(
            signing_key=keys.mac_key,
            encryption_key=keys.encryption_key,
            material_description=description,
        )

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        check_context(context)
        table = context.table_name
        description = context.material_description
        content_algorithm = description.get(MD_CONTENT_KEY_ALGORITHM)
        signing_algorithm = description.get(MD_SIGNING_KEY_ALGORITHM)
        encoded = description.get(MD_ENCRYPTED_KEY)
        if content_algorithm is None or signing_algorithm is None or encoded is None:
            raise InvalidMaterialDescriptionError(
                "the material description lacks the KMS data key or its algorithms", table=table
            )
        try:
            # Checked before KMS is called: a bad description must not cost a KMS request.
            _check_content_algorithm(content_algorithm)
            _check_signing_algorithm(signing_algorithm)
        except InvalidMaterialDescriptionError as exc:
            raise InvalidMaterialDescriptionError(exc.message, table=table) from exc
        try:
            blob = decode_b64(encoded, what="the KMS data key")
        except InvalidMaterialDescriptionError as exc:
            raise InvalidMaterialDescriptionError(exc.message, table=table) from exc
        ec = kms_encryption_context(
            context, content_algorithm=content_algorithm, signing_algorithm=signing_algorithm
        )
        cache = self._decrypt_cache
        cache_key = cache.make_key(self._key_id, blob, ec) if cache is not None else None
        keys = cache.get(cache_key) if cache is not None and cache_key is not None else None
        if cache is not None:
            _telemetry.cache_lookup("kms_decrypt", keys is not None, f"table {table!r}")
        if keys is None:
            params: dict[str, Any] = {"CiphertextBlob": blob, "EncryptionContext": ec}
            if self._enforce_key_id:
                params["KeyId"] = self._key_id
            response = self._call("decrypt", table, **params)
            try:
                plaintext = response["Plaintext"]
            except (KeyError, TypeError) as exc:
                raise ProviderError("AWS KMS Decrypt returned no plaintext", table=table) from exc
            keys = derive_keys(
                _checked_data_key(plaintext, "Decrypt", table),
                content_algorithm=content_algorithm,
                signing_algorithm=signing_algorithm,
            )
            if cache is not None and cache_key is not None:
                cache.put(cache_key, keys)
        return DecryptionMaterials(
            verification_key=keys.mac_key,
            decryption_key=keys.encryption_key,
            material_description=description,
        )
