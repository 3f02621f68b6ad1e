"""A PynamoDB model in the DB-ESDK format: declare ``Meta.keyring`` and the fields as usual.

Runs offline: ``python examples/dbesdk_model.py`` starts the embedded moto server (the ``demo``
extra). ``main(endpoint_url)`` uses a DynamoDB server you already run (DynamoDB Local).
"""

from __future__ import annotations

# --8<-- [start:imports]
import os
import sys
import uuid
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute

from pynamodb_encryption.dbesdk import RawAesKeyring
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]


# --8<-- [start:model]
def load_keyring() -> RawAesKeyring:
    # In production the wrapping key comes from your secret store (or use the KMS or
    # hierarchical keyring); resolved once, on the model's first use.
    return RawAesKeyring(
        key_namespace="patients", key_name="wrapping-key-1", wrapping_key=os.urandom(32)
    )


class Patient(EncryptedModel):
    class Meta:
        table_name = "patients"
        keyring = load_keyring  # a keyring, or a zero-argument callable returning one

    patient_id = UnicodeAttribute(hash_key=True)
    ssn = EncryptedAttribute(UnicodeAttribute())  # ENCRYPT_AND_SIGN
    status = SignedAttribute(UnicodeAttribute())  # SIGN_ONLY
    # SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT: signed, and bound into what the keyring sees.
    tenant = SignedAttribute(UnicodeAttribute(), in_encryption_context=True)
    visits = NumberAttribute(default=0)  # unmarked: DO_NOTHING, allowed unsigned for you
    version = VersionAttribute()  # optimistic locking, signed


# --8<-- [end:model]


def main(endpoint_url: str, *, table: str = "patients") -> dict[str, Any]:
    Patient.Meta.table_name = table
    Patient.Meta.host = endpoint_url  # type: ignore[attr-defined]
    Patient.Meta.region = "us-east-1"  # type: ignore[attr-defined]
    Patient.Meta.aws_access_key_id = "local"  # type: ignore[attr-defined]
    Patient.Meta.aws_secret_access_key = "local"  # type: ignore[attr-defined]
    if not Patient.exists():
        Patient.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    # --8<-- [start:use]
    Patient("p-1", ssn="123-45-6789", status="admitted", tenant="north").save()
    patient = Patient.get("p-1", consistent_read=True)
    # A signed update: read, change, re-sign, one UpdateItem conditioned on the old footer.
    # (AWS's DB-ESDK forbids update expressions on signed attributes; this works.)
    patient.update([Patient.status.set("discharged")])
    # An unsigned attribute updates natively, concurrent writers never lose an increment.
    patient.update([Patient.visits.add(1)])
    # --8<-- [end:use]
    stored = Patient._get_connection().get_item("p-1", consistent_read=True)["Item"]
    loaded = Patient.get("p-1", consistent_read=True)
    return {
        "status": loaded.status,
        "visits": loaded.visits,
        "version": loaded.version,
        "format": sorted(name for name in stored if name.startswith("aws_dbe_")),
        "ssn stored encrypted": "B" in stored["ssn"],
    }


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url, table=f"patients-{uuid.uuid4().hex[:8]}"))
