"""DB-ESDK keyrings and the branch key store: where DB-ESDK data keys come from (may do I/O).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

# dbecore: raw AES, static key store, hierarchical keyring.
from ._hierarchical import BranchKeyIdSupplier, HierarchicalKeyring
from ._raw_aes import RawAesKeyring
from ._static import StaticKeyStore

__all__ = [
    # dbecore
    "BranchKeyIdSupplier",
    "HierarchicalKeyring",
    "RawAesKeyring",
    "StaticKeyStore",
]
