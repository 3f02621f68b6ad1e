"""DB-ESDK keyrings and the branch key store: where DB-ESDK data keys come from (may do I/O).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

# Key sources (dbekeys): RSA, KMS, multi-keyring, the DynamoDB branch key store, MPL adapter.
from ._key_store import KeyStore
from ._kms import AwsKmsKeyring
from ._mpl import MplKeyring
from ._multi import MultiKeyring
from ._raw_rsa import RawRsaKeyring, RsaPadding

__all__: list[str] = [
    # Key sources (dbekeys)
    "AwsKmsKeyring",
    "KeyStore",
    "MplKeyring",
    "MultiKeyring",
    "RawRsaKeyring",
    "RsaPadding",
]
