"""A KEYS_ONLY index cannot be queried through an encrypted model; the refusal names the
workaround, and the workaround works: keys from a plain model, whole items via batch_get."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey, UnsupportedOperationError
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)


class ByCategory(GlobalSecondaryIndex["Any"]):
    class Meta:
        index_name = "by-category"
        projection = KeysOnlyProjection()

    category = UnicodeAttribute(hash_key=True)


@pytest.fixture
def models(ddb_endpoint: str, table_name: str) -> Iterator[tuple[Any, Any]]:
    class Product(EncryptedModel):
        class Meta:
            table_name = "placeholder"
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        category = UnicodeAttribute()
        secret = EncryptedAttribute(UnicodeAttribute())
        by_category = ByCategory()

    class ProductKeys(Model):  # the same table, read without encryption: keys only
        class Meta:
            table_name = "placeholder"

        pk = UnicodeAttribute(hash_key=True)
        category = UnicodeAttribute()
        by_category = ByCategory()

    for model in (Product, ProductKeys):
        meta: Any = model.Meta
        meta.table_name = table_name
        meta.host = ddb_endpoint
        model._connection = None
    Product.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    yield Product, ProductKeys
    with contextlib.suppress(Exception):
        Product.delete_table()


def test_keys_only_index_refusal_names_the_workaround_which_works(
    models: tuple[Any, Any],
) -> None:
    product, product_keys = models
    for i in range(3):
        product(f"p{i}", category="tools", secret=f"s{i}").save()
    with pytest.raises(UnsupportedOperationError) as info:
        list(product.by_category.query("tools"))
    message = str(info.value)
    assert "KEYS_ONLY" in message
    assert "Product.batch_get(keys)" in message
    assert "plain PynamoDB model" in message

    keys = [k.pk for k in product_keys.by_category.query("tools")]
    loaded = sorted(product.batch_get(keys), key=lambda p: p.pk)
    assert [(p.pk, p.secret) for p in loaded] == [("p0", "s0"), ("p1", "s1"), ("p2", "s2")]


def test_unknown_index_is_named(models: tuple[Any, Any]) -> None:
    product, _ = models
    with pytest.raises(UnsupportedOperationError, match="declares no such index"):
        product._pde_check_index("missing", "query")
