"""The pure engine: serialization, material description, signatures, ciphers, item encryptor.

No I/O here and no import of boto3 or PynamoDB (checked by import-linter).
"""

from ._actions import AttributeActions, CryptoAction
from ._describe import ItemDescription, describe_item
from ._encryptor import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    ItemEncryptor,
    decrypt_item,
    decrypt_python_item,
    encrypt_item,
    encrypt_python_item,
)
from ._keys import RsaPrivateKey, RsaPublicKey, Signer, SymmetricKey, Verifier
from ._materials import (
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    MaterialsProvider,
)
from ._protocol import ItemEncryptorProtocol, LegacyPolicy, PlaintextOverride

__all__ = [
    "MATERIAL_DESCRIPTION_ATTRIBUTE",
    "SIGNATURE_ATTRIBUTE",
    "AttributeActions",
    "CryptoAction",
    "DecryptionMaterials",
    "EncryptionContext",
    "EncryptionMaterials",
    "ItemDescription",
    "ItemEncryptor",
    "ItemEncryptorProtocol",
    "LegacyPolicy",
    "MaterialsProvider",
    "PlaintextOverride",
    "RsaPrivateKey",
    "RsaPublicKey",
    "Signer",
    "SymmetricKey",
    "Verifier",
    "decrypt_item",
    "decrypt_python_item",
    "describe_item",
    "encrypt_item",
    "encrypt_python_item",
]
