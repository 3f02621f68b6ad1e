"""Batches, transactions and the operations an encrypted model refuses (see docs/operations.md)."""

# --8<-- [start:imports]
from __future__ import annotations

from collections.abc import Callable

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from pynamodb_encryption import UnsupportedOperationError

from .models import Patient

# --8<-- [end:imports]


# --8<-- [start:batch]
def admit_many(clinic_id: str, people: list[tuple[str, str, str]]) -> list[Patient]:
    with Patient.batch_write() as batch:  # every item is encrypted and signed on commit
        for patient_id, name, ssn in people:
            batch.save(Patient(clinic_id, patient_id, name=name, ssn=ssn, ward="triage"))
    return list(Patient.batch_get([(clinic_id, pid) for pid, _, _ in people]))


# --8<-- [end:batch]


# --8<-- [start:transactions]
def transfer(patient: Patient, new_ward: str) -> Patient:
    connection = Patient._get_connection().connection
    patient.ward = new_ward
    with TransactWrite(connection=connection) as tx:
        # Change signed/encrypted fields on the instance and save it: the item is re-signed.
        tx.save(patient, condition=Patient.status == "admitted")
    with TransactGet(connection=connection) as get:
        future = get.get(Patient, patient.clinic_id, patient.patient_id)
    return future.get()  # verified and decrypted


def old_values_on_conflict(patient: Patient) -> Patient | None:
    """A failed transactional write can return the stored item: load it through the model."""
    connection = Patient._get_connection().connection
    try:
        with TransactWrite(connection=connection) as tx:
            tx.save(patient, condition=Patient.status == "no such status", return_values=ALL_OLD)
    except TransactWriteError as exc:
        reason = exc.cancellation_reasons[0] if exc.cancellation_reasons else None
        if reason is not None and reason.raw_item is not None:
            return Patient.from_raw_data(reason.raw_item)  # verified and decrypted
    return None


# --8<-- [end:transactions]


# --8<-- [start:refused]
def refused_operations(patient: Patient) -> list[str]:
    """Each of these raises UnsupportedOperationError before any request is sent."""
    attempts: dict[str, Callable[[], object]] = {
        # A filter on an encrypted field would compare ciphertext.
        "filter on encrypted": lambda: Patient.query("c1", filter_condition=Patient.ssn == "x"),
        # A projection returns partial items, whose signature cannot be checked.
        "projection": lambda: Patient.get("c1", "p1", attributes_to_get=["name"]),
        # A transactional update cannot re-sign the item.
        "transactional update": lambda: TransactWrite(
            connection=Patient._get_connection().connection
        ).update(patient, [Patient.visits.add(1)]),
    }
    refused = []
    for label, attempt in attempts.items():
        try:
            attempt()
        except UnsupportedOperationError:
            refused.append(label)
    return refused


# --8<-- [end:refused]
