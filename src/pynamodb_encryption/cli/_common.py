"""Options and helpers shared by the subcommands: AWS clients, provider configuration.

Key material never comes from a command-line value (it would land in shell history and in
``ps`` output): only from files, or environment variables named in a provider config file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import MaterialsProvider
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "PROVIDER_CONFIG_ENV",
    "add_aws_options",
    "add_key_file_option",
    "add_provider_config_option",
    "dynamodb_client",
    "load_provider",
    "provider_config_path",
]

#: Environment variable naming the provider config file when ``--provider-config`` is absent.
PROVIDER_CONFIG_ENV = "PYNAMODB_ENCRYPTION_PROVIDER_CONFIG"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    """``--endpoint-url`` and ``--region`` (the standard AWS variables apply otherwise)."""
    group = parser.add_argument_group("AWS connection")
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        type=endpoint_url,
        help="DynamoDB API endpoint (e.g. http://127.0.0.1:8000 for DynamoDB Local); "
        "default: AWS_ENDPOINT_URL_DYNAMODB, then the AWS endpoint of the region",
    )
    group.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / your AWS config)",
    )


def endpoint_url(text: str) -> str:
    """argparse type of an endpoint URL: ``http(s)://HOST[:PORT][/PATH]``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"not an http(s) URL: {text!r} (e.g. http://127.0.0.1:8000)"
        )
    return text


def add_key_file_option(parser: argparse.ArgumentParser) -> None:
    """``--allow-insecure-key-file``: accept secret key files others can read."""
    parser.add_argument(
        "--allow-insecure-key-file",
        action="store_true",
        help="use a secret key file even when its group or other users can read it "
        "(refused by default: chmod 600 the file instead)",
    )


def add_provider_config_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--provider-config FILE`` (or ``$PYNAMODB_ENCRYPTION_PROVIDER_CONFIG``)."""
    need = "required" if required else "optional"
    parser.add_argument(
        "--provider-config",
        metavar="FILE",
        type=Path,
        help=f"JSON file that says where the keys are ({need}; default: "
        f"${PROVIDER_CONFIG_ENV}). Keys are referenced by file or environment variable, "
        "never written in the command line",
    )
    add_key_file_option(parser)


def provider_config_path(args: argparse.Namespace) -> Path | None:
    """The config file from ``--provider-config`` or the environment, if any."""
    explicit: Path | None = getattr(args, "provider_config", None)
    if explicit is not None:
        return explicit
    from_env = os.environ.get(PROVIDER_CONFIG_ENV)
    return Path(from_env) if from_env else None


def load_provider(
    path: Path,
    client: DynamoDBClient | None = None,
    *,
    allow_insecure_key_file: bool = False,
) -> MaterialsProvider:
    """Build the materials provider described by the JSON config file at ``path``.

    A ``most-recent`` config without its own ``dynamodb_endpoint_url`` uses ``client`` (the
    command's ``--endpoint-url``/``--region`` connection) for its meta table. A secret key
    file that its group or others can read is refused unless ``allow_insecure_key_file``.
    """
    # Imported here: the maintenance layer pulls in providers that the other subcommands
    # (keygen, demo) do not need.
    from ..maintenance import KeyFilePolicy, provider_from_config, read_provider_config

    if not path.exists():
        raise ConfigurationError(f"provider config file not found: {path}")
    config = read_provider_config(path)
    policy: KeyFilePolicy = "warn" if allow_insecure_key_file else "refuse"
    return provider_from_config(
        config,
        base_dir=path.resolve().parent,
        dynamodb_client=client if "dynamodb_endpoint_url" not in config else None,
        insecure_key_files=policy,
    )


def _is_loopback(url: str | None) -> bool:
    if not url:
        return False
    rest = url.split("://", 1)[-1]
    return any(rest.startswith(host) for host in _LOOPBACK_HOSTS)


def client_kwargs(
    endpoint_url: str | None, region: str | None, *, embedded: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``boto3.client`` / ``Meta``: endpoint, region, credentials.

    A local endpoint (loopback) accepts any credentials, so when none are configured the
    CLI supplies dummy ones instead of failing with ``NoCredentialsError``. For the embedded
    server (``embedded=True``) the user's AWS configuration is not consulted at all: the demo
    must work the same on every machine, and never send real credentials anywhere.
    """
    if embedded:
        return {
            "endpoint_url": endpoint_url,
            "region_name": region or "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
    import boto3

    session = boto3.session.Session()
    kwargs: dict[str, Any] = {"region_name": region or session.region_name or "us-east-1"}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if _is_loopback(endpoint_url) and session.get_credentials() is None:
        kwargs["aws_access_key_id"] = "local"
        kwargs["aws_secret_access_key"] = "local"  # noqa: S105 - loopback servers ignore it
    return kwargs


def dynamodb_client(args: argparse.Namespace) -> DynamoDBClient:
    """A DynamoDB client for ``--endpoint-url`` / ``--region``."""
    import boto3

    kwargs = client_kwargs(getattr(args, "endpoint_url", None), getattr(args, "region", None))
    try:
        client: DynamoDBClient = boto3.client("dynamodb", **kwargs)
    except ValueError as exc:  # botocore: an endpoint it cannot use
        raise ConfigurationError(f"--endpoint-url is not usable: {exc}") from exc
    return client


def load_keyring(
    path: Path,
    client: DynamoDBClient | None = None,
    *,
    allow_insecure_key_file: bool = False,
) -> Any:
    """Build the DB-ESDK keyring (and table options) of the keyring config file at ``path``
    (a `pynamodb_encryption.maintenance.KeyringConfig`)."""
    from ..maintenance import KeyFilePolicy, keyring_from_config, read_provider_config

    if not path.exists():
        raise ConfigurationError(f"provider config file not found: {path}")
    config = read_provider_config(path)
    policy: KeyFilePolicy = "warn" if allow_insecure_key_file else "refuse"
    return keyring_from_config(
        config,
        base_dir=path.resolve().parent,
        dynamodb_client=client if "dynamodb_endpoint_url" not in config else None,
        insecure_key_files=policy,
    )


def is_keyring_config_file(path: Path) -> bool:
    """Whether the config file at ``path`` describes a DB-ESDK keyring."""
    from ..maintenance import is_keyring_config, read_provider_config

    return path.exists() and is_keyring_config(read_provider_config(path))
