"""``python -m pynamodb_encryption``: the same as the ``pynamodb-encryption`` command."""

from __future__ import annotations

import sys

from pynamodb_encryption.cli import main

if __name__ == "__main__":
    sys.exit(main())
