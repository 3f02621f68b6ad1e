"""DB-ESDK keyrings and the branch key store: where DB-ESDK data keys come from (may do I/O).

Public names are re-exported from `pynamodb_encryption.dbesdk`; import from there.
"""

__all__: list[str] = []
