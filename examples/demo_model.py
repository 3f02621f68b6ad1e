"""An encrypted PynamoDB model: the same patient record as ``pynamodb-encryption demo``.

Runs with no AWS account: ``python examples/demo_model.py`` starts the embedded DynamoDB API
(the ``demo`` extra), or uses ``DDB_ENDPOINT`` if set (e.g. DynamoDB Local).
"""

# --8<-- [start:imports]
from __future__ import annotations

import os
import secrets

import boto3
from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption import (
    SignatureVerificationError,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

# --8<-- [end:imports]


# --8<-- [start:provider]
def load_provider() -> WrappedMaterialsProvider:
    """Keys would come from your secret store or KMS; here they are made up for the run."""
    return WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )


# --8<-- [end:provider]


# --8<-- [start:model]
class Patient(EncryptedModel):
    class Meta:
        table_name = "patients"
        region = "us-east-1"
        materials_provider = load_provider  # called once, on first use

    patient_id = UnicodeAttribute(hash_key=True)  # keys: signed, never encrypted
    ssn = EncryptedAttribute(UnicodeAttribute())  # encrypted and signed
    diagnosis = EncryptedAttribute(UnicodeAttribute())
    plan = SignedAttribute(UnicodeAttribute())  # readable, tamper-evident
    ward = UnicodeAttribute()  # plain: neither encrypted nor signed


# --8<-- [end:model]


def run(endpoint_url: str) -> None:
    Patient.Meta.host = endpoint_url  # type: ignore[attr-defined]
    Patient.Meta.table_name = f"patients-{secrets.token_hex(4)}"
    Patient._connection = None  # the endpoint changed: drop the cached connection
    Patient.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        # --8<-- [start:use]
        Patient(
            "patient-0042", ssn="078-05-1120", diagnosis="rhinitis", plan="basic", ward="east-3"
        ).save()

        patient = Patient.get("patient-0042")  # verified and decrypted
        assert patient.ssn == "078-05-1120"
        assert "078-05-1120" not in repr(patient)  # encrypted fields are masked
        # --8<-- [end:use]

        raw = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name="us-east-1").get_item(
            TableName=Patient.Meta.table_name, Key={"patient_id": {"S": "patient-0042"}}
        )
        stored = raw["Item"]
        assert set(stored["ssn"]) == {"B"}  # ciphertext
        assert stored["plan"] == {"S": "basic"}  # signed, readable

        # --8<-- [start:tamper]
        boto3.client("dynamodb", endpoint_url=endpoint_url, region_name="us-east-1").update_item(
            TableName=Patient.Meta.table_name,
            Key={"patient_id": {"S": "patient-0042"}},
            UpdateExpression="SET #p = :p",
            ExpressionAttributeNames={"#p": "plan"},
            ExpressionAttributeValues={":p": {"S": "platinum"}},
        )  # a change made behind the library's back...
        try:
            Patient.get("patient-0042")
        except SignatureVerificationError:
            pass  # ...is detected on read
        # --8<-- [end:tamper]
        else:
            raise AssertionError("tampering was not detected")
    finally:
        Patient.delete_table()
    print("demo_model: ok")


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    endpoint = os.environ.get("DDB_ENDPOINT")
    if endpoint:
        run(endpoint)
        return
    from pynamodb_encryption._embedded_moto import EmbeddedMoto

    with EmbeddedMoto() as url:
        run(url)


if __name__ == "__main__":
    main()
