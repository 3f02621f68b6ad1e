"""pynamodb-encryption: client-side encryption and signing for DynamoDB items.

Byte-compatible with the AWS DynamoDB Encryption Client (Python and Java).
"""

from .core import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    MaterialsProvider,
    RsaPrivateKey,
    RsaPublicKey,
    Signer,
    SymmetricKey,
    Verifier,
    decrypt_item,
    decrypt_python_item,
    encrypt_item,
    encrypt_python_item,
)
from .errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    InvalidMaterialDescriptionError,
    NoKnownVersionError,
    PlaintextItemError,
    ProviderError,
    PynamoDBEncryptionError,
    SignatureVerificationError,
    UnsupportedOperationError,
    VersionAlreadyExistsError,
)
from .providers import StaticMaterialsProvider, WrappedMaterialsProvider

__version__ = "0.1.0"

__all__ = [
    "MATERIAL_DESCRIPTION_ATTRIBUTE",
    "SIGNATURE_ATTRIBUTE",
    "AttributeActions",
    "ConfigurationError",
    "CryptoAction",
    "DecryptionError",
    "DecryptionMaterials",
    "EncryptionContext",
    "EncryptionError",
    "EncryptionMaterials",
    "InvalidMaterialDescriptionError",
    "ItemEncryptor",
    "MaterialsProvider",
    "NoKnownVersionError",
    "PlaintextItemError",
    "ProviderError",
    "PynamoDBEncryptionError",
    "RsaPrivateKey",
    "RsaPublicKey",
    "SignatureVerificationError",
    "Signer",
    "StaticMaterialsProvider",
    "SymmetricKey",
    "UnsupportedOperationError",
    "Verifier",
    "VersionAlreadyExistsError",
    "WrappedMaterialsProvider",
    "__version__",
    "decrypt_item",
    "decrypt_python_item",
    "encrypt_item",
    "encrypt_python_item",
]
