"""Django: a model's materials provider configured in ``settings.py``, built on first use.

Runs offline: ``python examples/frameworks/django_settings.py`` starts the embedded moto server
(the ``demo`` extra; Django must be installed). ``main(endpoint_url)`` uses a server you
already run. In a project, the two regions below go into ``models.py`` and ``settings.py``.
"""

from __future__ import annotations

# --8<-- [start:model]
from pynamodb.attributes import UnicodeAttribute

from pynamodb_encryption.integrations import from_django_settings
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute


class Order(EncryptedModel):
    class Meta:
        table_name = "orders"
        # Nothing is read from the settings here: the provider is built on first use.
        materials_provider = from_django_settings("default")

    order_id = UnicodeAttribute(hash_key=True)
    card_number = EncryptedAttribute(UnicodeAttribute())
    status = SignedAttribute(UnicodeAttribute())


# --8<-- [end:model]

# --8<-- [start:settings]
# settings.py: one entry per provider; keys come from the environment (base64), never inline.
PYNAMODB_ENCRYPTION_PROVIDERS = {
    "default": {
        "provider": "static",
        "encryption_key": {"env": "ORDERS_AES_KEY", "algorithm": "AES"},
        "signing_key": {"env": "ORDERS_HMAC_KEY", "algorithm": "HmacSHA256"},
    },
}
# --8<-- [end:settings]

import base64  # noqa: E402  (the example's scaffolding, kept out of the snippets)
import os  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def main(endpoint_url: str, *, table: str | None = None) -> dict[str, str]:
    """Configure Django (as ``manage.py`` would), save an order and read it back."""
    import django
    from django.conf import settings

    for name in ("ORDERS_AES_KEY", "ORDERS_HMAC_KEY"):  # in production: your secret store
        os.environ.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())
    if not settings.configured:
        settings.configure(PYNAMODB_ENCRYPTION_PROVIDERS=PYNAMODB_ENCRYPTION_PROVIDERS)
        django.setup()
    meta: Any = Order.Meta
    meta.host = endpoint_url
    meta.table_name = table or f"orders-{secrets.token_hex(4)}"
    meta.aws_access_key_id = "local"  # local servers accept any credentials
    meta.aws_secret_access_key = "local"
    Order._connection = None
    Order.reset_materials_provider()
    Order.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    try:
        Order(order_id="o-1", card_number="4111-1111-1111-1111", status="paid").save()
        loaded = Order.get("o-1", consistent_read=True)
        return {"card_number": loaded.card_number, "status": loaded.status}
    finally:
        Order.delete_table()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
