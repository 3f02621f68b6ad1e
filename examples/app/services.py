"""The service layer: what views and tasks call. Plain PynamoDB calls on an encrypted model."""

# --8<-- [start:imports]
from __future__ import annotations

from pynamodb.exceptions import PutError, UpdateError

from .models import Patient

# --8<-- [end:imports]


# --8<-- [start:errors]
class PatientExists(Exception):
    """The patient id is already taken in this clinic."""


class StaleRecord(Exception):
    """Someone else changed the record since it was read."""


# --8<-- [end:errors]


# --8<-- [start:write]
def admit(
    clinic_id: str,
    patient_id: str,
    *,
    name: str,
    ssn: str,
    ward: str,
    allergies: set[str] | None = None,
) -> Patient:
    patient = Patient(
        clinic_id, patient_id, name=name, ssn=ssn, ward=ward, allergies=allergies or None
    )
    try:
        # A condition on a key (signed, plaintext) is fine; on `ssn` it would be refused.
        patient.save(condition=Patient.patient_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise PatientExists(patient_id) from exc
        raise
    return patient


# --8<-- [end:write]


# --8<-- [start:read]
def find(clinic_id: str, patient_id: str) -> Patient | None:
    try:
        return Patient.get(clinic_id, patient_id)  # verified, then decrypted
    except Patient.DoesNotExist:
        return None


# --8<-- [end:read]


# --8<-- [start:update]
def record_visit(patient: Patient) -> int:
    # `visits` is signed: the update runs as read / apply / re-sign / conditional UpdateItem.
    patient.update([Patient.visits.add(1)])
    return int(patient.visits)


def discharge(patient: Patient) -> None:
    try:
        patient.update([Patient.status.set("discharged")], condition=Patient.status == "admitted")
    except UpdateError as exc:
        raise StaleRecord(patient.patient_id) from exc


def correct_ssn(patient: Patient, ssn: str) -> None:
    patient.ssn = ssn
    try:
        patient.save()  # the version check rejects a stale copy
    except PutError as exc:
        raise StaleRecord(patient.patient_id) from exc


# --8<-- [end:update]


# --8<-- [start:query]
def admitted_in(clinic_id: str) -> list[Patient]:
    # Filters on signed attributes work; on encrypted ones they are refused.
    return list(Patient.query(clinic_id, filter_condition=Patient.status == "admitted"))


def on_ward(ward: str) -> list[Patient]:
    return list(Patient.by_ward.query(ward))


# --8<-- [end:query]
