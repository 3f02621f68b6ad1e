"""Run the app's service layer once against a DynamoDB endpoint."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from pynamodb_encryption import SymmetricKey, WrappedMaterialsProvider

from . import keys, services
from .models import Patient


def main(
    endpoint_url: str, *, table: str | None = None, extra: Callable[[], None] | None = None
) -> dict[str, object]:
    """Admit, read, update and query patients; returns what it saw (for the tests)."""
    keys.configure(
        WrappedMaterialsProvider(
            wrapping_key=SymmetricKey.generate("AES", 256),
            signing_key=SymmetricKey.generate("HmacSHA256", 256),
        )
    )
    Patient.Meta.host = endpoint_url
    Patient.Meta.table_name = table or f"clinic-patients-{secrets.token_hex(4)}"
    # Local servers accept any credentials; against AWS leave these out.
    Patient.Meta.aws_access_key_id = "local"
    Patient.Meta.aws_secret_access_key = "local"
    Patient._connection = None  # the endpoint changed: drop the cached connection
    Patient.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        services.admit("c1", "p1", name="Ada", ssn="078-05-1120", ward="east", allergies={"nuts"})
        services.admit("c1", "p2", name="Alan", ssn="219-09-9999", ward="west")
        ada = services.find("c1", "p1")
        assert ada is not None
        visits = services.record_visit(ada)
        services.discharge(ada)
        if extra is not None:
            extra()  # more scenarios on the same table (used by the tests)
        return {
            "name": ada.name,
            "visits": visits,
            "status": ada.status,
            "admitted": [p.patient_id for p in services.admitted_in("c1")],
            "east": [p.name for p in services.on_ward("east")],
            "repr": repr(ada),
        }
    finally:
        Patient.delete_table()
