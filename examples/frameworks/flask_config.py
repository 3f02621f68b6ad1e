"""Flask: a model's materials provider configured in the app's config, built on first use.

Runs offline: ``python examples/frameworks/flask_config.py`` starts the embedded moto server
(the ``demo`` extra, which brings Flask). ``main(endpoint_url)`` uses a server you already run.
"""

from __future__ import annotations

# --8<-- [start:app]
import os

from flask import Flask
from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption.integrations import from_flask_config
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel


class Note(EncryptedModel):
    class Meta:
        table_name = "notes"
        # Built from current_app.config on first use, i.e. inside a request.
        materials_provider = from_flask_config("default")

    note_id = UnicodeAttribute(hash_key=True)
    body = EncryptedAttribute(UnicodeAttribute())


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["PYNAMODB_ENCRYPTION_PROVIDERS"] = {
        "default": {
            "provider": "wrapped",
            "wrapping_key": {"env": "NOTES_WRAPPING_KEY", "algorithm": "AES"},
            "signing_key": {"env": "NOTES_SIGNING_KEY", "algorithm": "HmacSHA256"},
        },
    }
    # Or from a JSON file: app.config.from_file("pynamodb-encryption.json", load=json.load)
    app.config.from_prefixed_env()  # e.g. FLASK_PYNAMODB_ENCRYPTION_PROVIDERS='{...}'

    @app.get("/notes/<note_id>")
    def show(note_id: str) -> dict[str, str]:
        return {"body": Note.get(note_id).body}

    @app.put("/notes/<note_id>/<body>")
    def store(note_id: str, body: str) -> dict[str, str]:
        Note(note_id=note_id, body=body).save()
        return {"stored": note_id}

    return app


# --8<-- [end:app]

import base64  # noqa: E402  (the example's scaffolding, kept out of the snippet)
import secrets  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def main(endpoint_url: str, *, table: str | None = None) -> dict[str, object]:
    """Store a note through one request and read it back through another."""
    for name in ("NOTES_WRAPPING_KEY", "NOTES_SIGNING_KEY"):  # in production: a secret store
        os.environ.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())
    meta: Any = Note.Meta
    meta.host = endpoint_url
    meta.table_name = table or f"notes-{secrets.token_hex(4)}"
    meta.aws_access_key_id = "local"  # local servers accept any credentials
    meta.aws_secret_access_key = "local"
    Note._connection = None
    Note.reset_materials_provider()
    Note.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        client = create_app().test_client()
        stored = client.put("/notes/n-1/remember-the-milk").get_json()
        shown = client.get("/notes/n-1").get_json()
        return {"stored": stored, "shown": shown}
    finally:
        Note.delete_table()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
