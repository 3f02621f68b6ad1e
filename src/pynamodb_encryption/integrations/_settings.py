"""Lazy providers from Django settings and Flask config (see the package docstring)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

from ..core import MaterialsProvider
from ..errors import ConfigurationError
from ..maintenance import provider_from_config

__all__ = [
    "SETTING",
    "ProviderSettingsError",
    "SettingsProvider",
    "from_django_settings",
    "from_flask_config",
    "provider_from_setting",
]

#: The Django setting / Flask config key: a mapping of names to provider configurations.
SETTING = "PYNAMODB_ENCRYPTION_PROVIDERS"

_log = logging.getLogger("pynamodb_encryption.integrations")


class ProviderSettingsError(ConfigurationError):
    """The framework's settings do not describe the provider asked for."""


def provider_from_setting(entry: object, *, where: str) -> MaterialsProvider:
    """Build the provider one settings entry describes.

    Args:
        entry: a configuration mapping (as `provider_from_config` takes), the path of a JSON
            configuration file, a materials provider, or a zero-argument callable returning one.
        where: names the entry in error messages (e.g. ``settings.PYNAMODB_ENCRYPTION_PROVIDERS
            ['default']``).
    """
    if isinstance(entry, MaterialsProvider) and not isinstance(entry, type):
        return entry
    if isinstance(entry, (Mapping, str, os.PathLike)):
        try:
            return provider_from_config(entry)
        except ConfigurationError as exc:
            raise ProviderSettingsError(f"{where}: {exc.message}") from exc
    if callable(entry):
        provider = entry()
        if isinstance(provider, MaterialsProvider) and not isinstance(provider, type):
            return provider
        raise ProviderSettingsError(
            f"{where}() returned {type(provider).__name__}, not a materials provider"
        )
    raise ProviderSettingsError(
        f"{where} must be a provider configuration (a mapping or the path of a JSON file), a "
        f"materials provider or a zero-argument callable, not {type(entry).__name__}"
    )


def _entry(providers: object, name: str, where: str) -> object:
    if providers is None:
        raise ProviderSettingsError(
            f"{where} is not set: add {SETTING} = {{{name!r}: {{'provider': ...}}}}"
        )
    if not isinstance(providers, Mapping):
        raise ProviderSettingsError(
            f"{where} must map provider names to configurations, not {type(providers).__name__}"
        )
    if name not in providers:
        known = ", ".join(repr(k) for k in sorted(providers, key=str)) or "none"
        raise ProviderSettingsError(f"{where} has no provider {name!r} (configured: {known})")
    return providers[name]


class SettingsProvider:
    """A zero-argument callable for ``Meta.materials_provider``: builds the named provider from
    the framework's settings when a model first needs it, then returns the same provider.

    Build it with `from_django_settings` or `from_flask_config`. Models that name the same
    settings entry share one provider (one KMS client, one most-recent cache).
    """

    __slots__ = ("_framework", "_lookup", "_name")

    def __init__(
        self, framework: str, name: str, lookup: Callable[[str], tuple[object, object, str]]
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError("the provider name must be a non-empty string")
        self._framework = framework
        self._name = name
        # name -> (cache owner, settings entry, where): the owner is the settings object or app.
        self._lookup = lookup

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"SettingsProvider({self._framework}, {self._name!r})"

    def __call__(self) -> MaterialsProvider:
        owner, entry, where = self._lookup(self._name)
        key = (self._framework, id(owner), self._name)
        with _lock:
            cached = _built.get(key)
            if cached is not None and cached[0] is entry:
                return cached[1]
        provider = provider_from_setting(entry, where=where)
        with _lock:
            cached = _built.get(key)
            if cached is not None and cached[0] is entry:
                return cached[1]  # another thread built it meanwhile: share that one
            _built[key] = (entry, provider)
        _log.info(
            "built materials provider %r from %s (%s)", self._name, where, type(provider).__name__
        )
        return provider


# (framework, id(settings object or app), name) -> (the entry it was built from, the provider).
# Keyed by the entry object too: changed settings (Django's override_settings, a new Flask
# config value) build a new provider.
_built: dict[tuple[str, int, str], tuple[object, MaterialsProvider]] = {}
_lock = threading.Lock()


def _django_lookup(name: str) -> tuple[object, object, str]:
    try:
        from django.conf import settings
    except ImportError as exc:
        raise ProviderSettingsError(
            "from_django_settings() needs Django installed (pip install django)"
        ) from exc
    where = f"settings.{SETTING}"
    return settings, _entry(getattr(settings, SETTING, None), name, where), f"{where}[{name!r}]"


def from_django_settings(name: str = "default") -> SettingsProvider:
    """The provider ``settings.PYNAMODB_ENCRYPTION_PROVIDERS[name]`` describes, built on first
    use (so the models module can be imported before Django's settings are configured).

    Example::

        materials_provider = from_django_settings("default")

    Raises (on first use):
        ProviderSettingsError: the setting or the entry is missing or invalid; the message
            names the setting and the field, never a key or a value.
    """
    return SettingsProvider("django", name, _django_lookup)


def from_flask_config(name: str = "default", *, app: Any = None) -> SettingsProvider:
    """The provider ``app.config["PYNAMODB_ENCRYPTION_PROVIDERS"][name]`` describes, built on
    first use: with ``app``, or else with ``flask.current_app`` (first use must then happen in
    an application context, as in a request).

    Raises (on first use):
        ProviderSettingsError: no application (context), or the entry is missing or invalid.
    """

    def lookup(entry_name: str) -> tuple[object, object, str]:
        target = app
        if target is None:
            try:
                from flask import current_app, has_app_context
            except ImportError as exc:
                raise ProviderSettingsError(
                    "from_flask_config() needs Flask installed (pip install flask)"
                ) from exc
            if not has_app_context():
                raise ProviderSettingsError(
                    f"from_flask_config({entry_name!r}) was first used outside a Flask "
                    "application context: pass app=, or use the model in a request or under "
                    "app.app_context()"
                )
            target = cast(Any, current_app)._get_current_object()
        where = f"app.config[{SETTING!r}]"
        providers = target.config.get(SETTING)
        return target, _entry(providers, entry_name, where), f"{where}[{entry_name!r}]"

    return SettingsProvider("flask", name, lookup)
