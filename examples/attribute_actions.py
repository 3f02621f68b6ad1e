"""Attribute actions with the item encryptor: what gets encrypted, signed, or left alone.

Runs offline (no DynamoDB): ``python examples/attribute_actions.py``.
"""

# --8<-- [start:imports]
from __future__ import annotations

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    ItemEncryptor,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
)

# --8<-- [end:imports]


def main() -> None:
    # --8<-- [start:actions]
    actions = AttributeActions(
        default_action=CryptoAction.DO_NOTHING,  # attributes not listed: stored as they are
        attribute_actions={
            "patient_id": CryptoAction.SIGN_ONLY,  # a key: never encrypted, so sign it
            "ssn": CryptoAction.ENCRYPT_AND_SIGN,  # unreadable in storage, tamper-evident
            "plan": CryptoAction.SIGN_ONLY,  # readable (and queryable), tamper-evident
        },
    )
    encryptor = ItemEncryptor(
        table_name="patients",  # bound into every signature
        partition_key_name="patient_id",  # an encrypting action on it would be an error
        attribute_actions=actions,
        materials_provider=StaticMaterialsProvider(
            encryption_key=SymmetricKey.generate("AES", 256),
            signing_key=SymmetricKey.generate("HmacSHA256", 256),
        ),
    )
    item = {"patient_id": "p-1", "ssn": "078-05-1120", "plan": "basic", "ward": "east-3"}
    stored = encryptor.encrypt_python(item)
    # --8<-- [end:actions]

    # --8<-- [start:stored]
    assert isinstance(stored["ssn"], bytes)  # IV + AES-CBC ciphertext
    assert stored["plan"] == "basic"  # signed, still plaintext
    assert stored["ward"] == "east-3"  # DO_NOTHING: neither encrypted nor signed
    assert "*amzn-ddb-map-sig*" in stored  # the signature
    assert "*amzn-ddb-map-desc*" in stored  # the material description
    assert encryptor.decrypt_python(stored) == item
    # --8<-- [end:stored]

    # --8<-- [start:tamper]
    changed_plain = dict(stored, ward="west-1")
    assert encryptor.decrypt_python(changed_plain)["ward"] == "west-1"  # not detected

    changed_signed = dict(stored, plan="platinum")
    try:
        encryptor.decrypt_python(changed_signed)
    except SignatureVerificationError:
        pass  # detected: the signature covers "plan"
    else:
        raise AssertionError("a signed attribute was changed without detection")

    moved = dict(stored, patient_id="p-2")  # copy someone else's ciphertext to another key
    try:
        encryptor.decrypt_python(moved)
    except SignatureVerificationError:
        pass  # detected: the signature covers the keys and the table name
    else:
        raise AssertionError("an item moved to another key without detection")
    # --8<-- [end:tamper]
    print("attribute_actions: ok")


if __name__ == "__main__":
    main()
