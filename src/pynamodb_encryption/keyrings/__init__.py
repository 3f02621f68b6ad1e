"""DB-ESDK keyrings and the branch key store: where DB-ESDK data keys come from (may do I/O).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

from ._beacon_keys import MultiBeaconKeySource, SingleBeaconKeySource
from ._hierarchical import BranchKeyIdSupplier, HierarchicalKeyring
from ._key_store import KeyStore
from ._kms import AwsKmsKeyring
from ._mpl import MplKeyring
from ._multi import MultiKeyring
from ._raw_aes import RawAesKeyring
from ._raw_rsa import RawRsaKeyring, RsaPadding
from ._static import StaticKeyStore

__all__ = [
    "AwsKmsKeyring",
    "BranchKeyIdSupplier",
    "HierarchicalKeyring",
    "KeyStore",
    "MplKeyring",
    "MultiKeyring",
    "RawAesKeyring",
    "RawRsaKeyring",
    "RsaPadding",
    "StaticKeyStore",
    "MultiBeaconKeySource",
    "SingleBeaconKeySource",
]
