"""Materials providers configured from a web framework's settings, resolved on first use.

Django::

    # settings.py
    PYNAMODB_ENCRYPTION_PROVIDERS = {
        "default": {"provider": "aws-kms", "key_id": "alias/orders", "region": "eu-west-1"},
    }

    # models.py
    class Order(EncryptedModel):
        class Meta:
            table_name = "orders"
            materials_provider = from_django_settings("default")

Flask: the same mapping under ``app.config["PYNAMODB_ENCRYPTION_PROVIDERS"]``, and
``materials_provider = from_flask_config("default")`` (resolved in an application context, or
pass ``app=``).

Each entry is what the CLI and the maintenance jobs accept (`provider_from_config`): a mapping,
or the path of a JSON file; keys are referenced by file or environment variable, never inline.
An entry may also be a ready materials provider, or a zero-argument callable returning one.

Neither framework is imported by this module: ``django`` and ``flask`` are imported when a
provider is first resolved, and only the one asked for.
"""

from ._settings import (
    SETTING,
    ProviderSettingsError,
    SettingsProvider,
    from_django_settings,
    from_flask_config,
    provider_from_setting,
)

__all__ = [
    "SETTING",
    "ProviderSettingsError",
    "SettingsProvider",
    "from_django_settings",
    "from_flask_config",
    "provider_from_setting",
]
