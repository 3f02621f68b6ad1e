"""Providers from Django settings and Flask config: lazy, shared, refreshed, clear errors.

Uses the real frameworks (the test extra installs both); the library never imports them.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey, WrappedMaterialsProvider
from pynamodb_encryption.integrations import (
    ProviderSettingsError,
    from_django_settings,
    from_flask_config,
)

SRC = Path(__file__).resolve().parents[2] / "src"
KEY = base64.b64encode(bytes(range(32))).decode()


def _static_entry(variable: str = "PDE_TEST_AES") -> dict[str, Any]:
    return {
        "provider": "static",
        "encryption_key": {"env": variable, "algorithm": "AES"},
        "signing_key": {"env": "PDE_TEST_HMAC", "algorithm": "HmacSHA256"},
    }


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PDE_TEST_AES", KEY)
    monkeypatch.setenv("PDE_TEST_HMAC", KEY)


@pytest.fixture
def django_settings() -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure()
        django.setup()
    return settings


def test_declaring_a_model_imports_no_framework_and_reads_no_setting() -> None:
    code = """
        import sys
        from pynamodb.attributes import UnicodeAttribute
        from pynamodb_encryption.integrations import from_django_settings, from_flask_config
        from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

        class A(EncryptedModel):
            class Meta:
                table_name = "a"
                materials_provider = from_django_settings("default")
            pk = UnicodeAttribute(hash_key=True)
            secret = EncryptedAttribute(UnicodeAttribute())

        class B(A):
            class Meta:
                table_name = "b"
                materials_provider = from_flask_config("default")

        print(sorted(m for m in sys.modules if m.split(".")[0] in ("django", "flask")))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_django_builds_once_and_follows_override_settings(django_settings: Any, keys: None) -> None:
    from django.test import override_settings

    first_entry = _static_entry()
    factory = from_django_settings("default")
    with override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"default": first_entry}):
        provider = factory()
        assert isinstance(provider, StaticMaterialsProvider)
        # Shared: the same entry gives the same provider, whichever factory asks.
        assert factory() is provider
        assert from_django_settings("default")() is provider
    wrapped = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )
    with override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"default": wrapped}):
        assert factory() is wrapped
    with override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"default": lambda: wrapped}):
        assert factory() is wrapped


def test_django_errors_name_the_setting_and_field(django_settings: Any, keys: None) -> None:
    from django.test import override_settings

    with (
        override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"main": _static_entry()}),
        pytest.raises(ProviderSettingsError, match=r"no provider 'default' \(configured: 'main'\)"),
    ):
        from_django_settings("default")()
    with (
        override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"default": _static_entry("PDE_UNSET")}),
        pytest.raises(ProviderSettingsError) as info,
    ):
        from_django_settings("default")()
    message = str(info.value)
    assert "settings.PYNAMODB_ENCRYPTION_PROVIDERS['default']" in message
    assert "encryption_key" in message
    assert KEY not in message
    with (
        override_settings(PYNAMODB_ENCRYPTION_PROVIDERS={"default": 42}),
        pytest.raises(ProviderSettingsError, match="not int"),
    ):
        from_django_settings("default")()
    with override_settings():
        # Whatever another test configured: the setting is absent here.
        if hasattr(django_settings, "PYNAMODB_ENCRYPTION_PROVIDERS"):
            del django_settings.PYNAMODB_ENCRYPTION_PROVIDERS
        with pytest.raises(ProviderSettingsError, match="is not set"):
            from_django_settings("default")()


def test_flask_uses_the_current_app_or_the_given_one(keys: None) -> None:
    from flask import Flask

    first, second = Flask("first"), Flask("second")
    first.config["PYNAMODB_ENCRYPTION_PROVIDERS"] = {"default": _static_entry()}
    second.config["PYNAMODB_ENCRYPTION_PROVIDERS"] = {"default": _static_entry()}
    factory = from_flask_config("default")
    with pytest.raises(ProviderSettingsError, match="outside a Flask application context"):
        factory()
    with first.app_context():
        provider = factory()
        assert factory() is provider
    with second.app_context():
        assert factory() is not provider  # one provider per application
    assert from_flask_config("default", app=first)() is provider
    empty = Flask("empty")
    with pytest.raises(
        ProviderSettingsError, match=r"app.config\['PYNAMODB_ENCRYPTION_PROVIDERS'\]"
    ):
        from_flask_config("default", app=empty)()
