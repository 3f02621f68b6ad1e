"""The demo's model: a patient record with encrypted, signed and plain fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from ..core import CryptoAction, MaterialsProvider
from ..orm import EncryptedAttribute, EncryptedModel, SignedAttribute

__all__ = ["DEMO_FIELDS", "DemoStore", "patient_model"]

#: The model's fields, in display order.
DEMO_FIELDS = ("patient_id", "ssn", "diagnosis", "plan", "ward")


def patient_model(
    *, table: str, endpoint_url: str, provider: MaterialsProvider, client_kwargs: Mapping[str, Any]
) -> type[EncryptedModel]:
    """The demo's ``Patient`` model, bound to one table and endpoint.

    Built per run because the table name and endpoint are only known at run time (PynamoDB
    reads ``Meta`` when the class first connects).
    """
    region_value = client_kwargs.get("region_name", "us-east-1")
    access_key = client_kwargs.get("aws_access_key_id")
    secret_key = client_kwargs.get("aws_secret_access_key")

    class Patient(EncryptedModel):
        class Meta:
            table_name = table
            host = endpoint_url
            region = region_value
            aws_access_key_id = access_key
            aws_secret_access_key = secret_key
            materials_provider = provider

        patient_id = UnicodeAttribute(hash_key=True)  # keys are signed, never encrypted
        ssn = EncryptedAttribute(UnicodeAttribute())
        diagnosis = EncryptedAttribute(UnicodeAttribute())
        plan = SignedAttribute(UnicodeAttribute())
        ward = UnicodeAttribute()  # plain: neither encrypted nor signed

    return Patient


class DemoStore:
    """Save and load the demo record through the encrypted model.

    Args:
        table_name: the demo table (hash key ``patient_id``).
        endpoint_url: the DynamoDB API.
        provider: the materials provider.
        client_kwargs: ``boto3.client`` keyword arguments (region, credentials).
    """

    def __init__(
        self,
        *,
        table_name: str,
        endpoint_url: str,
        provider: MaterialsProvider,
        client_kwargs: Mapping[str, Any],
    ) -> None:
        self.model = patient_model(
            table=table_name,
            endpoint_url=endpoint_url,
            provider=provider,
            client_kwargs=client_kwargs,
        )
        effective = self.model.get_attribute_actions()
        self.actions: dict[str, CryptoAction] = {
            name: effective.action(name) for name in DEMO_FIELDS
        }

    def save(self, item: Mapping[str, Any]) -> None:
        """Save ``item`` (DynamoDB JSON with string values) through the model."""
        values = {name: item[name]["S"] for name in DEMO_FIELDS}
        self.model(**values).save()

    def load(self, key: Mapping[str, Any]) -> dict[str, Any]:
        """Get the item at ``key`` through the model (verified and decrypted), as DynamoDB
        JSON for display."""
        record = self.model.get(key["patient_id"]["S"], consistent_read=True)
        return {name: {"S": getattr(record, name)} for name in DEMO_FIELDS}
