"""Materials providers: where keys come from."""

from ._static import StaticMaterialsProvider
from ._wrapped import WrappedMaterialsProvider

__all__ = [
    "StaticMaterialsProvider",
    "WrappedMaterialsProvider",
]
