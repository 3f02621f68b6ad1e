"""``python -m app`` from ``examples/``: the embedded moto server unless DDB_ENDPOINT is set."""

from __future__ import annotations

import os

from .demo import main

if __name__ == "__main__":
    endpoint = os.environ.get("DDB_ENDPOINT")
    if endpoint:
        print(main(endpoint))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
