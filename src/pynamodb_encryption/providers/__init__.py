"""Materials providers: where keys come from."""

from ._aws_kms import AwsKmsMaterialsProvider
from ._cache import CacheStats, KmsDecryptCache
from ._meta_store import MetaStore
from ._most_recent import MostRecentProvider
from ._static import StaticMaterialsProvider
from ._wrapped import WrappedMaterialsProvider

__all__ = [
    "AwsKmsMaterialsProvider",
    "CacheStats",
    "KmsDecryptCache",
    "MetaStore",
    "MostRecentProvider",
    "StaticMaterialsProvider",
    "WrappedMaterialsProvider",
]
