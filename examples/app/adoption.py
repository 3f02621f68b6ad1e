"""Adopting an existing plaintext table, step by step (see docs/how-to/adopt-plaintext-table.md).

1. Deploy the encrypted model with ``plaintext_policy = ALLOW_PLAINTEXT_READ``: old items still
   load (unverified), every write is encrypted and signed.
2. Rewrite the remaining plaintext items.
3. Flip the policy to ``REQUIRE_ENCRYPTED``: an unsigned item is now an error.
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.expressions.operand import Path
from pynamodb.models import Model

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    PlaintextItemError,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.orm import (
    EncryptedAttribute,
    EncryptedModel,
    PlaintextPolicy,
    SignedAttribute,
)

# --8<-- [end:imports]

# --8<-- [start:provider]
PROVIDER = WrappedMaterialsProvider(
    wrapping_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)


# --8<-- [end:provider]


# --8<-- [start:before]
class LegacyCustomer(Model):  # what the table was written with so far
    class Meta:
        table_name = "customers"
        host: str | None = None

    customer_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    tier = UnicodeAttribute()


# --8<-- [end:before]


# --8<-- [start:step1]
class Customer(EncryptedModel):
    class Meta:
        table_name = "customers"
        host: str | None = None
        materials_provider = PROVIDER
        # Step 1: unsigned (old) items still load; every write is encrypted and signed.
        plaintext_policy = PlaintextPolicy.ALLOW_PLAINTEXT_READ

    customer_id = UnicodeAttribute(hash_key=True)
    email = EncryptedAttribute(UnicodeAttribute())
    tier = SignedAttribute(UnicodeAttribute())


# --8<-- [end:step1]


# --8<-- [start:step2]
def rewrite_plaintext_items() -> int:
    """Step 2: encrypt every item still stored in plaintext; returns how many were rewritten."""
    still_plaintext = Path([SIGNATURE_ATTRIBUTE]).does_not_exist()
    rewritten = 0
    for customer in Customer.scan():
        try:
            # Only if nobody rewrote it meanwhile (a write by the app signs the item).
            customer.save(condition=still_plaintext)
            rewritten += 1
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    return rewritten


# --8<-- [end:step2]


def main(endpoint_url: str, *, table: str | None = None) -> dict[str, object]:
    name = table or f"customers-{secrets.token_hex(4)}"
    for model in (LegacyCustomer, Customer):
        model.Meta.table_name = name
        model.Meta.host = endpoint_url
        model._connection = None
    LegacyCustomer.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        for i in range(5):
            LegacyCustomer(f"c{i}", email=f"user{i}@example.com", tier="gold").save()

        Customer("c9", email="new@example.com", tier="silver").save()  # encrypted already
        old = Customer.get("c0")  # a plaintext item, loaded under step 1's policy
        rewritten = rewrite_plaintext_items()

        # --8<-- [start:step3]
        # Step 3, once the rewrite is done: unsigned items are refused from now on.
        Customer.Meta.plaintext_policy = PlaintextPolicy.REQUIRE_ENCRYPTED
        # --8<-- [end:step3]
        emails = sorted(c.email for c in Customer.scan())

        LegacyCustomer("c0", email="sneaky@example.com", tier="gold").save()  # a stray write
        try:
            Customer.get("c0")
            refused = False
        except PlaintextItemError:
            refused = True
        return {
            "step1_old_email": old.email,
            "rewritten": rewritten,
            "emails": emails,
            "stray_plaintext_refused": refused,
        }
    finally:
        Customer.Meta.plaintext_policy = PlaintextPolicy.ALLOW_PLAINTEXT_READ
        LegacyCustomer.delete_table()
