"""A model that reads a table written by the reference library with a DO_NOTHING default,
where the key attributes are unsigned (docs/migration.md, "Tables whose keys are unsigned").

``tests/interop/test_key_action_interop.py`` imports this module, points ``Order`` at a test
table, and reads items the reference wrote; ``examples/cli/sign-keys.sh`` then moves the
table to signed keys.
"""

from __future__ import annotations

# --8<-- [start:model]
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import CryptoAction, MaterialsProvider, provider_from_config
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute


def load_provider() -> MaterialsProvider:
    return provider_from_config("keys.json")


class Order(EncryptedModel):
    class Meta:
        table_name = "orders"
        materials_provider = load_provider
        # The reference's layout: keys unsigned. Only while moving the table to signed keys.
        key_action = CryptoAction.DO_NOTHING

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    secret = EncryptedAttribute(UnicodeAttribute())
    amount = SignedAttribute(NumberAttribute())


# --8<-- [end:model]
