"""``pynamodb-encryption metastore create|new-version|list``: manage most-recent provider keys.

The meta table holds versioned key material (``N`` = material name, ``V`` = version), each
meta item encrypted by a *meta provider*. ``--provider-config`` names either that meta
provider's config, or a ``most-recent`` config whose ``meta_provider``, ``meta_table`` and
``material_name`` are then used (``--table``/``--material`` override the last two).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._common import (
    add_aws_options,
    add_provider_config_option,
    dynamodb_client,
    provider_config_path,
)
from ._output import Progress, Table, dump_json, print_document

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ..core import MaterialsProvider

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``metastore`` command and its actions."""
    parser = subparsers.add_parser(
        "metastore",
        help="manage most-recent provider keys in a meta table",
        description="Create a meta table, add a key version (rotation), list versions.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create",
        help="create the meta table (and version 0 of --material, if given)",
        description="Create the meta table (N S hash key, V N range key) and wait until it is "
        "ACTIVE. With --material, also create version 0 of that material (needs "
        "--provider-config).",
    )
    create.add_argument("--read-capacity", type=int, help="provisioned RCU (default on-demand)")
    create.add_argument("--write-capacity", type=int, help="provisioned WCU (default on-demand)")

    new_version = actions.add_parser(
        "new-version",
        help="create the next version of a material (key rotation)",
        description="Create version max+1 (or 0) of --material with fresh random keys, "
        "encrypted by the meta provider. New items use it once the providers' caches expire; "
        "old versions stay readable.",
    )
    listing = actions.add_parser(
        "list",
        help="list material names and versions (no keys needed)",
        description="List the versions of --material, or of every material when omitted. "
        "Only the plain N and V attributes are read; nothing is decrypted.",
    )
    for sub in (create, new_version, listing):
        sub.add_argument("--table", help="meta table name (default: meta_table of the config)")
        sub.add_argument("--material", help="material name (default: material_name of the config)")
        add_provider_config_option(sub, required=sub is new_version)
        sub.add_argument("--json", action="store_true", help="print JSON")
        add_aws_options(sub)
        sub.set_defaults(func=run)


def _read_config(path: Path) -> dict[str, Any]:
    from ..maintenance import read_provider_config

    if not path.exists():
        raise ConfigurationError(f"provider config file not found: {path}")
    return dict(read_provider_config(path))


def _meta_provider(
    path: Path, config: dict[str, Any], client: DynamoDBClient, *, allow_insecure: bool
) -> MaterialsProvider:
    from ..maintenance import provider_from_config

    folder = path.resolve().parent
    policy: Any = "warn" if allow_insecure else "refuse"
    if config.get("provider") == "most-recent":
        nested = config.get("meta_provider")
        if not isinstance(nested, dict):
            raise ConfigurationError("config field 'meta_provider' is required")
        return provider_from_config(
            nested, base_dir=folder, dynamodb_client=client, insecure_key_files=policy
        )
    return provider_from_config(
        config, base_dir=folder, dynamodb_client=client, insecure_key_files=policy
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``pynamodb-encryption metastore ...``."""
    path = provider_config_path(args)
    config = _read_config(path) if path is not None else {}
    most_recent = config.get("provider") == "most-recent"
    table = args.table or (config.get("meta_table") if most_recent else None)
    material = args.material or (config.get("material_name") if most_recent else None)
    if not table:
        raise ConfigurationError("give --table (or a most-recent config with meta_table)")
    client = dynamodb_client(args)

    if args.action == "list":
        return _list(client, table, material, as_json=args.json)

    if args.action == "create":
        from ..providers import MetaStore

        MetaStore.create_table(
            client,
            table,
            read_capacity=args.read_capacity,
            write_capacity=args.write_capacity,
        )
        result: dict[str, Any] = {"table": table, "created": True}
        if material:
            if path is None:
                raise ConfigurationError(
                    "creating a material version needs --provider-config (the meta provider)"
                )
            result["material"] = material
            result["version"] = _store(path, config, client, table, args).new_version(material)
        _print(result, args.json, _created_text)
        return 0

    # new-version
    if not material:
        raise ConfigurationError("give --material (or a most-recent config with material_name)")
    if path is None:
        raise ConfigurationError(
            "new-version needs --provider-config (or $PYNAMODB_ENCRYPTION_PROVIDER_CONFIG): "
            "the meta provider encrypts the new keys"
        )
    version = _store(path, config, client, table, args).new_version(material)
    _print({"table": table, "material": material, "version": version}, args.json, _version_text)
    return 0


def _store(
    path: Path,
    config: dict[str, Any],
    client: DynamoDBClient,
    table: str,
    args: argparse.Namespace,
) -> Any:
    from ..providers import MetaStore

    return MetaStore(
        table_name=table,
        materials_provider=_meta_provider(
            path, config, client, allow_insecure=args.allow_insecure_key_file
        ),
        dynamodb_client=client,
    )


def _created_text(result: dict[str, Any]) -> str:
    text = f"created meta table {result['table']!r}"
    if "version" in result:
        text += f" and version {result['version']} of material {result['material']!r}"
    return text


def _version_text(result: dict[str, Any]) -> str:
    return (
        f"created version {result['version']} of material {result['material']!r} "
        f"in {result['table']!r}"
    )


def _print(result: dict[str, Any], as_json: bool, text: Any) -> None:
    if as_json:
        dump_json(result)
    else:
        sys.stdout.write(text(result) + "\n")


def _list(client: DynamoDBClient, table: str, material: str | None, *, as_json: bool) -> int:
    """Read N and V only (plain, signed attributes): no key is needed to list versions."""
    names: dict[str, list[int]] = {}
    params: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#n, #v",
        "ExpressionAttributeNames": {"#n": "N", "#v": "V"},
        "ConsistentRead": True,
    }
    if material:
        params["KeyConditionExpression"] = "#n = :n"
        params["ExpressionAttributeValues"] = {":n": {"S": material}}
    operation = client.query if material else client.scan
    progress = Progress("meta items")
    try:
        while True:
            page = operation(**params)
            for item in page.get("Items", []):
                names.setdefault(item["N"]["S"], []).append(int(item["V"]["N"]))
            progress.advance(len(page.get("Items", [])))
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
    finally:
        progress.close()
    materials: list[dict[str, Any]] = [
        {"material": name, "versions": sorted(v), "current": max(v)}
        for name, v in sorted(names.items())
    ]
    result = {"table": table, "materials": materials}
    if as_json:
        dump_json(result)
        return 0
    if material and not names:
        sys.stdout.write(f"material {material!r} has no version in {table!r}\n")
        return 0
    rows = [[m["material"], str(m["current"]), _ranges(m["versions"])] for m in materials]
    print_document([Table(("material", "current (max) version", "versions"), rows)])
    return 0


def _ranges(versions: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    parts: list[str] = []
    start = prev = None
    for v in versions:
        if start is None:
            start = prev = v
        elif prev is not None and v == prev + 1:
            prev = v
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = v
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)
