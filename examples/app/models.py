"""The app's models."""

# --8<-- [start:imports]
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

from . import keys

# --8<-- [end:imports]


# --8<-- [start:helpers]
def _now() -> datetime:
    return datetime.now(timezone.utc)


# --8<-- [end:helpers]


# --8<-- [start:models]
class ByWard(GlobalSecondaryIndex["Patient"]):  # type: ignore[no-untyped-call]  # PynamoDB
    class Meta:
        index_name = "by-ward"
        projection = AllProjection()  # whole items: their signature can be checked

    ward = UnicodeAttribute(hash_key=True)


class Patient(EncryptedModel):
    class Meta:
        table_name = "clinic-patients"
        region = "us-east-1"
        materials_provider = keys.materials_provider  # a callable: resolved on first use
        host: str | None = None  # set to a local endpoint by main()
        aws_access_key_id: str | None = None
        aws_secret_access_key: str | None = None

    clinic_id = UnicodeAttribute(hash_key=True)  # keys are signed, never encrypted
    patient_id = UnicodeAttribute(range_key=True)
    ward = UnicodeAttribute()  # a GSI key: signed automatically
    by_ward = ByWard()

    name = EncryptedAttribute(UnicodeAttribute())
    ssn = EncryptedAttribute(UnicodeAttribute())
    allergies = EncryptedAttribute(UnicodeSetAttribute(null=True))

    status = SignedAttribute(UnicodeAttribute(default="admitted"))  # filterable, tamper-evident
    visits = SignedAttribute(NumberAttribute(default=0))
    version = VersionAttribute()  # optimistic locking; the version is signed too

    created_at = UTCDateTimeAttribute(default_for_new=_now)  # plain: not signed


# --8<-- [end:models]
