"""PynamoDB integration: ``EncryptedModel`` and the field markers.

Example::

    class Patient(EncryptedModel):
        class Meta:
            table_name = "patients"
            materials_provider = get_provider  # or a provider instance

        patient_id = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute())
        status = SignedAttribute(UnicodeAttribute())
"""

from ._attributes import EncryptedAttribute, ProtectedAttribute, SignedAttribute
from ._errors import UpdateContentionError
from ._model import EncryptedMetaModel, EncryptedModel
from ._plan import PlaintextPolicy

__all__ = [
    "EncryptedAttribute",
    "EncryptedMetaModel",
    "EncryptedModel",
    "PlaintextPolicy",
    "ProtectedAttribute",
    "SignedAttribute",
    "UpdateContentionError",
]
