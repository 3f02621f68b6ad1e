"""AWS KMS keyring: the data key protected by one AWS KMS key.

Wire format (``ESDK-SPEC:framework/aws-kms/aws-kms-keyring.md``, AWS's material providers
``Keyrings/AwsKms/AwsKmsKeyring.dfy``, with intermediate key wrapping): provider id
``aws-kms``, provider info = the key ARN KMS answered with, ciphertext = the 48-byte wrapped
data key followed by the KMS ``CiphertextBlob`` of the intermediate key. The KMS encryption
context is the item's encryption context, so KMS refuses to unwrap a data key moved to
another item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag

from ..errors import ConfigurationError, ProviderError
from ..structured._materials import (
    DbeDecryptionMaterials,
    DbeEncryptionMaterials,
    EncryptedDataKey,
)
from ..structured._wrapping import (
    DATA_KEY_LENGTH,
    WRAPPED_DATA_KEY_LENGTH,
    unwrap_data_key,
    wrap_data_key,
)
from ._keysource import aws_call, new_data_key

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

__all__ = ["KMS_PROVIDER_ID", "AwsKmsKeyring", "is_kms_key_arn", "is_valid_kms_identifier"]

KMS_PROVIDER_ID = b"aws-kms"


def _parse_arn(value: str) -> tuple[str, str] | None:
    """``(resource type, resource id)`` of a well-formed AWS KMS ARN, else None."""
    parts = value.split(":", 5)
    if len(parts) != 6:
        return None
    arn, partition, service, region, account, resource = parts
    if arn != "arn" or not partition or service != "kms" or not region or not account:
        return None
    resource_type, sep, resource_id = resource.partition("/")
    if not sep or resource_type not in ("key", "alias") or not resource_id:
        return None
    return resource_type, resource_id


def is_kms_key_arn(value: str) -> bool:
    """True for a valid AWS KMS ARN whose resource type is ``key`` (not an alias)."""
    parsed = _parse_arn(value)
    return parsed is not None and parsed[0] == "key"


def is_valid_kms_identifier(value: object) -> bool:
    """A key ARN, an alias ARN, ``alias/NAME`` or a raw key id (the spec's valid identifier)."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith("arn:"):
        return _parse_arn(value) is not None
    if value.startswith("alias/"):
        return len(value) > len("alias/")
    return ":" not in value and "/" not in value


class AwsKmsKeyring:
    """A DB-ESDK keyring that protects data keys with one AWS KMS key.

    ``kms_key_id`` may be any KMS key identifier for encrypting; to read items it must be the
    key's ARN, because each stored data key names the ARN that protected it and this keyring
    only asks KMS to decrypt the data keys of its own key (``KeyId`` is always sent, so KMS
    never picks a key from the ciphertext). ``kms_client`` is a boto3 KMS client.
    """

    __slots__ = ("_client", "_grant_tokens", "_key_id")

    def __init__(
        self,
        *,
        kms_key_id: str,
        kms_client: KMSClient | Any,
        grant_tokens: Sequence[str] = (),
    ) -> None:
        if not is_valid_kms_identifier(kms_key_id):
            raise ConfigurationError(
                "kms_key_id must be a KMS key ARN, an alias ARN, 'alias/NAME' or a key id"
            )
        if kms_client is None:
            raise ConfigurationError("kms_client is required (a boto3 KMS client)")
        if isinstance(grant_tokens, str) or not all(isinstance(t, str) for t in grant_tokens):
            raise ConfigurationError("grant_tokens must be a sequence of str")
        self._key_id: str = kms_key_id
        self._client = kms_client
        self._grant_tokens = list(grant_tokens)

    def __repr__(self) -> str:
        return f"AwsKmsKeyring(kms_key_id={self._key_id!r})"

    def _call(self, operation: str, method: Any, **kwargs: Any) -> Mapping[str, Any]:
        if self._grant_tokens:
            kwargs["GrantTokens"] = self._grant_tokens
        response: Mapping[str, Any] = aws_call(
            "AWS KMS", operation, lambda: method(**kwargs), material_name=self._key_id
        )
        return response

    def _response_arn(self, response: Mapping[str, Any], operation: str) -> str:
        key_id = response.get("KeyId")
        if not isinstance(key_id, str) or not is_kms_key_arn(key_id):
            raise ProviderError(
                f"AWS KMS {operation} answered without a valid key ARN",
                material_name=self._key_id,
            )
        return key_id

    def on_encrypt(self, materials: DbeEncryptionMaterials) -> DbeEncryptionMaterials:
        """Generate the data key if unset, then add its copy protected by the KMS key.

        KMS makes the intermediate key: ``GenerateDataKey`` (32 bytes); the data key itself is
        random, and wrapped under keys derived from the intermediate one.
        """
        context = dict(materials.encryption_context)
        response = self._call(
            "GenerateDataKey",
            self._client.generate_data_key,
            KeyId=self._key_id,
            NumberOfBytes=DATA_KEY_LENGTH,
            EncryptionContext=context,
        )
        intermediate = response.get("Plaintext")
        blob = response.get("CiphertextBlob")
        if not isinstance(intermediate, bytes) or len(intermediate) != DATA_KEY_LENGTH:
            raise ProviderError(
                "AWS KMS GenerateDataKey returned a key of the wrong length",
                material_name=self._key_id,
            )
        if not isinstance(blob, bytes) or not blob:
            raise ProviderError(
                "AWS KMS GenerateDataKey returned no ciphertext", material_name=self._key_id
            )
        arn = self._response_arn(response, "GenerateDataKey")
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(new_data_key())
        data_key = materials.plaintext_data_key
        assert data_key is not None
        wrapped, mac_key = wrap_data_key(
            data_key,
            materials.encryption_context,
            intermediate,
            serialized_context=materials.encryption_context_bytes(),
        )
        edk = EncryptedDataKey(
            provider_id=KMS_PROVIDER_ID,
            provider_info=arn.encode("utf-8"),
            ciphertext=wrapped + blob,
        )
        return materials.with_encrypted_data_key(edk, mac_key)

    def on_decrypt(
        self,
        materials: DbeDecryptionMaterials,
        encrypted_data_keys: Sequence[EncryptedDataKey],
    ) -> DbeDecryptionMaterials:
        """Open the first data key of this KMS key.

        Unchanged materials when no data key names this key; a `ProviderError` when one
        does but none opens (KMS refused, wrong key answered, tampered data), as the spec says.
        """
        if materials.plaintext_data_key is not None:
            raise ProviderError("the decryption materials already hold a data key")
        candidates: list[EncryptedDataKey] = []
        for edk in encrypted_data_keys:
            if edk.provider_id != KMS_PROVIDER_ID:
                continue
            try:
                arn = edk.provider_info.decode("utf-8")
            except UnicodeDecodeError:
                arn = ""
            if not is_kms_key_arn(arn):
                raise ProviderError(
                    "an aws-kms data key does not name a KMS key ARN", material_name=self._key_id
                )
            if arn == self._key_id:
                candidates.append(edk)
        if not candidates:
            return materials
        failures: list[ProviderError] = []
        for edk in candidates:
            try:
                return materials.with_data_key(*self._open(edk, materials))
            except ProviderError as exc:
                failures.append(exc)
        error = ProviderError(
            f"AWS KMS could not open any of {len(candidates)} data key(s) of this key "
            f"({'; '.join(f.message for f in failures)})",
            material_name=self._key_id,
        )
        raise error from failures[-1]

    def _open(
        self, edk: EncryptedDataKey, materials: DbeDecryptionMaterials
    ) -> tuple[bytes, bytes]:
        ciphertext = edk.ciphertext
        if len(ciphertext) <= WRAPPED_DATA_KEY_LENGTH:
            raise ProviderError("an aws-kms data key is truncated", material_name=self._key_id)
        response = self._call(
            "Decrypt",
            self._client.decrypt,
            KeyId=self._key_id,
            CiphertextBlob=ciphertext[WRAPPED_DATA_KEY_LENGTH:],
            EncryptionContext=dict(materials.encryption_context),
        )
        if response.get("KeyId") != self._key_id:
            raise ProviderError(
                "AWS KMS Decrypt answered for another key", material_name=self._key_id
            )
        intermediate = response.get("Plaintext")
        if not isinstance(intermediate, bytes) or len(intermediate) != DATA_KEY_LENGTH:
            raise ProviderError(
                "AWS KMS Decrypt returned a key of the wrong length", material_name=self._key_id
            )
        try:
            return unwrap_data_key(
                ciphertext[:WRAPPED_DATA_KEY_LENGTH],
                materials.encryption_context,
                intermediate,
                serialized_context=materials.encryption_context_bytes(),
            )
        except InvalidTag as exc:
            raise ProviderError(
                "an aws-kms data key does not match its encryption context",
                material_name=self._key_id,
            ) from exc
