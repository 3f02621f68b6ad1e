"""The ``pynamodb-encryption`` command line (argument parsing, printing and exit codes only).

Entry point: `main` (console script ``pynamodb-encryption`` and
``python -m pynamodb_encryption``).
"""

from ._main import main

__all__ = ["main"]
