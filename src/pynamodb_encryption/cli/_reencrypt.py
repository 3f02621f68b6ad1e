"""``pynamodb-encryption reencrypt``: rotate keys, change provider or actions, adopt plaintext.

Reads every item, verifies and decrypts it with the old configuration, encrypts it with the
new one and writes it back *conditionally* (on the old signature, or on the plaintext item
being unchanged), so it is safe on a table the application keeps writing to. Items that the
new configuration already reads are left alone: running the job twice does nothing the second
time. With ``--checkpoint`` an interrupted job (Ctrl-C, ``kill -9``, a crash) resumes where it
stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path
from typing import Any

from ..core import AttributeActions, CryptoAction, MaterialsProvider
from ..errors import ConfigurationError
from ..maintenance import (
    Checkpoint,
    CryptoConfig,
    CurrentCheck,
    ReencryptJob,
    ReencryptOptions,
    ReencryptReport,
    UnsignedItemPolicy,
    WriteMode,
    current_check_for_config,
    job_for_model,
    key_to_json,
    reencrypt_table,
    reencrypt_table_processes,
    same_material_description,
    verify_only,
)
from ._common import (
    add_aws_options,
    add_key_file_option,
    dynamodb_client,
    is_keyring_config_file,
    load_keyring,
    load_provider,
)
from ._main import verbosity
from ._output import Document, Table, dump_json, print_document, render_plain
from ._progress import JobProgress, ProgressMode
from ._term import hint_missing_rich, is_terminal, rich_available

__all__ = [
    "EXIT_WORK_PENDING",
    "actions_from_args",
    "exit_code",
    "load_model",
    "register",
    "render_report",
    "run",
]

_ACTIONS = {
    "encrypt": CryptoAction.ENCRYPT_AND_SIGN,
    "sign": CryptoAction.SIGN_ONLY,
    "nothing": CryptoAction.DO_NOTHING,
}
_CHECKS = {"description": same_material_description, "verify": verify_only}
_AUTO = "auto"
#: DynamoDB's bounds on a parallel scan's TotalSegments.
MAX_SEGMENTS = 1_000_000
#: Exit code of a dry run that found items to re-encrypt (0: nothing to do).
EXIT_WORK_PENDING = 3

EPILOG = """\
examples:
  rotate static keys, 4 parallel segments, resumable:
    pynamodb-encryption reencrypt --table orders --old-provider-config old.json \\
        --new-provider-config new.json --new-sign status --checkpoint orders.ckpt --segments 4

  adopt a plaintext table (encrypt every item that is not signed yet):
    pynamodb-encryption reencrypt --table orders --new-provider-config new.json \\
        --plaintext adopt --max-items-per-second 200

  take the table, keys and actions from a model; only report what would change:
    pynamodb-encryption reencrypt --model app.models:Order --old-provider-config old.json \\
        --dry-run

exit codes: 0 done (or a dry run with nothing to do), 1 failures or not finished,
3 a dry run found items to re-encrypt, 130 interrupted.
"""
#: Failed keys printed in the text report (all are in --json).
_TEXT_FAILURES = 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``reencrypt`` command."""
    parser = subparsers.add_parser(
        "reencrypt",
        help="re-encrypt a table with new keys, provider or actions (resumable, online)",
        description="Read every item of --table, verify and decrypt it with the old "
        "configuration, encrypt it with the new one and write it back on condition that it "
        "did not change meanwhile. Items already current are skipped, so a second run does "
        "nothing. Exit code 0 when every item is current, 1 when some failed or the job "
        "did not finish (the report lists their keys), 3 when --dry-run found items to "
        "re-encrypt, 130 when interrupted.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", help="table to re-encrypt (required unless --model is given)")
    parser.add_argument(
        "--model",
        metavar="MODULE:CLASS",
        help="an EncryptedModel class (importable from the current directory or PYTHONPATH): "
        "the table, key names and new actions come from it, and the new provider too unless "
        "--new-provider-config is given",
    )
    parser.add_argument(
        "--old-provider-config",
        metavar="FILE",
        type=Path,
        help="provider config that reads the current items (not needed to adopt a plaintext table)",
    )
    parser.add_argument(
        "--new-provider-config",
        metavar="FILE",
        type=Path,
        help="provider config to encrypt with (required unless the new actions do nothing)",
    )
    add_key_file_option(parser)
    for side in ("new", "old"):
        group = parser.add_argument_group(
            f"{side} attribute actions"
            + (
                " (default: every attribute encrypted and signed, keys signed)"
                if side == "new"
                else " (default: the same as the new ones)"
            )
        )
        group.add_argument(
            f"--{side}-encrypt", metavar="NAMES", default="", help="comma-separated attributes"
        )
        group.add_argument(
            f"--{side}-sign", metavar="NAMES", default="", help="comma-separated SIGN_ONLY"
        )
        group.add_argument(
            f"--{side}-nothing", metavar="NAMES", default="", help="comma-separated DO_NOTHING"
        )
        group.add_argument(
            f"--{side}-default-action",
            choices=tuple(_ACTIONS),
            help="action of every attribute not listed",
        )
    parser.add_argument(
        "--plaintext",
        choices=[p.value for p in UnsignedItemPolicy],
        default=UnsignedItemPolicy.REJECT.value,
        help="unsigned items: report them as failed (reject, default), leave them (skip), or "
        "encrypt them (adopt)",
    )
    parser.add_argument(
        "--current-check",
        choices=(_AUTO, *_CHECKS),
        default=_AUTO,
        help="how already-current items are pre-selected before they are verified with the "
        "new keys: auto (default: material description, plus the KMS key for an aws-kms new "
        "provider), description, or verify (verification alone)",
    )
    run_group = parser.add_argument_group("running the job")
    run_group.add_argument(
        "--segments",
        type=_segments,
        default=1,
        metavar="N",
        help=f"parallel scan segments, 1 to {MAX_SEGMENTS:,} (default 1)",
    )
    run_group.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        metavar="N",
        help="run the segments in N worker processes (one core each; --segments is raised "
        "to N if lower; --checkpoint is then a folder of per-segment files)",
    )
    run_group.add_argument(
        "--page-size", type=_positive_int, default=250, help="items per scan page (default 250)"
    )
    run_group.add_argument(
        "--checkpoint",
        metavar="FILE",
        type=Path,
        help="progress file: rerun the same command with it to resume after an interruption",
    )
    run_group.add_argument(
        "--max-items-per-second", type=_positive_float, metavar="N", help="rate cap on items"
    )
    run_group.add_argument(
        "--max-capacity-per-second",
        type=_positive_float,
        metavar="N",
        help="cap on consumed read+write capacity units per second",
    )
    run_group.add_argument(
        "--dry-run", action="store_true", help="write nothing; report what would change"
    )
    run_group.add_argument(
        "--write-mode",
        choices=[mode.value for mode in WriteMode],
        default=WriteMode.PUT.value,
        help="put (default): one conditional write (UpdateItem of the changed attributes) "
        "per item; transact: up to 100 of the same conditional updates per "
        "TransactWriteItems request (about 100x fewer write requests, but DynamoDB charges "
        "transactional writes twice the write capacity units of a single write)",
    )
    run_group.add_argument(
        "--max-failures",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="failed item keys kept for the report (all are counted; default 1000)",
    )
    progress = run_group.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="draw the live bar even when stderr is not a terminal",
    )
    progress.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no bar and no status lines",
    )
    run_group.add_argument(
        "--log-interval",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="when stderr is not a terminal (CI, Kubernetes, nohup), print a status line "
        "every SECONDS (default 30)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_aws_options(parser)
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _segments(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_SEGMENTS:
        raise argparse.ArgumentTypeError(f"DynamoDB allows at most {MAX_SEGMENTS:,} segments")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def actions_from_args(args: argparse.Namespace, side: str) -> AttributeActions | None:
    """The actions given for ``side`` ("old" or "new"); None when no option was given."""
    lists = {
        action: _names(getattr(args, f"{side}_{action}"))
        for action in ("encrypt", "sign", "nothing")
    }
    default = getattr(args, f"{side}_default_action")
    if default is None and not any(lists.values()):
        return None
    overrides: dict[str, CryptoAction] = {}
    for action, names in lists.items():
        for name in names:
            if name in overrides:
                raise ConfigurationError(
                    f"attribute listed twice in the --{side}-* actions", attribute=name
                )
            overrides[name] = _ACTIONS[action]
    return AttributeActions(_ACTIONS[default or "encrypt"], overrides)


def render_report(report: ReencryptReport, *, checkpoint: Path | None = None) -> str:
    """The text report as plain text: a counts table, then the keys of failed items."""
    return render_plain(report_document(report, checkpoint=checkpoint))


def report_document(report: ReencryptReport, *, checkpoint: Path | None = None) -> Document:
    """The text report: a counts table, then the keys of failed items."""
    verb = "would re-encrypt" if report.dry_run else "re-encrypted"
    rows = [
        ("scanned", str(report.scanned)),
        (verb, str(report.reencrypted)),
        ("already current", str(report.already_current)),
        ("skipped", str(report.skipped)),
        ("failed", str(report.failed)),
        ("conflicts retried", str(report.conflicts_retried)),
        ("items/s", f"{report.items_per_second:,.1f}"),
        ("elapsed", f"{report.elapsed_seconds:.1f} s"),
    ]
    if report.consumed_capacity:
        rows.append(("capacity units", f"{report.consumed_capacity:,.1f}"))
    title = f"reencrypt {report.table_name}" + (" (dry run)" if report.dry_run else "")
    if report.resumed:
        title += " (resumed from checkpoint)"
    lines: list[str | Table] = [title, Table(("", "count"), rows)]
    if report.failures:
        lines.append("failed items:")
        failure_rows = [
            (_key_text(f.key), f.error, f.reason) for f in report.failures[:_TEXT_FAILURES]
        ]
        lines.append(Table(("key", "error", "reason"), failure_rows))
        hidden = report.failed - len(failure_rows)
        if hidden > 0:
            lines.append(f"... and {hidden} more (use --json for the listed ones)")
    for segment in report.segment_failures:
        lines.append(f"segment {segment.segment} stopped: {segment.error}: {segment.reason}")
    if not report.complete:
        if checkpoint is not None:
            lines.append(f"not finished: rerun the same command to resume from {checkpoint}")
        else:
            lines.append("not finished: rerun the command (use --checkpoint to resume)")
    if report.dry_run and report.reencrypted and report.ok:
        lines.append(f"dry run: {report.reencrypted} item(s) to re-encrypt (exit code 3)")
    return lines


def _key_text(key: Any) -> str:
    parts = []
    for name, value in key_to_json(key).items():
        ((_, inner),) = value.items()
        parts.append(f"{name}={inner}")
    return " ".join(parts)


def _provider(
    path: Path | None, client: Any, option: str, *, allow_insecure: bool
) -> MaterialsProvider | None:
    if path is None or is_keyring_config_file(path):
        return None  # a keyring config: a DB-ESDK side (see dbesdk_side)
    try:
        return load_provider(path, client, allow_insecure_key_file=allow_insecure)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{option}: {exc.message}") from exc


def _current_check(args: argparse.Namespace) -> CurrentCheck:
    if args.current_check != _AUTO:
        return _CHECKS[args.current_check]
    if args.new_provider_config is None:
        return same_material_description
    check: CurrentCheck = current_check_for_config(args.new_provider_config)
    return check


def load_model(spec: str) -> type[Any]:
    """Import ``MODULE:CLASS`` (the current directory is searched first, as ``python -m``)."""
    import importlib

    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise ConfigurationError("--model must look like MODULE:CLASS")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"--model: cannot import module {module_name!r}") from exc
    except Exception as exc:  # the user's module failed while importing: say where
        where = ""
        if isinstance(exc, SyntaxError) and exc.lineno is not None:
            where = f" (line {exc.lineno})"
        raise ConfigurationError(
            f"--model: importing {module_name!r} raised {type(exc).__name__}{where}"
        ) from exc
    model = getattr(module, class_name, None)
    if not isinstance(model, type):
        raise ConfigurationError(f"--model: {module_name!r} has no class {class_name!r}")
    return model


def _table_keys(client: Any, table: str) -> tuple[str, str | None]:
    try:
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    except Exception as exc:
        raise ConfigurationError("cannot describe the table", table=table) from exc
    keys = {element["KeyType"]: element["AttributeName"] for element in schema}
    return keys["HASH"], keys.get("RANGE")


def dbesdk_side(
    args: argparse.Namespace,
    client: Any,
    side: str,
    *,
    table: str,
    model: type[Any] | None = None,
) -> CryptoConfig | None:
    """A DB-ESDK side when ``--{side}-provider-config`` is a keyring config: the keyring and
    table options from the file, the actions from ``--{side}-encrypt/-sign/-nothing`` (every
    signed attribute named; DO_NOTHING ones are allowed unsigned) or from the model."""
    from ..structured import DynamoDbTableEncryptionConfig

    path: Path | None = getattr(args, f"{side}_provider_config")
    if path is None or not is_keyring_config_file(path):
        return None
    option = f"--{side}-provider-config"
    try:
        keyring = load_keyring(path, client, allow_insecure_key_file=args.allow_insecure_key_file)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{option}: {exc.message}") from exc
    unsigned = set(keyring.allowed_unsigned_attributes)
    if model is not None and side == "new":
        plan = model._pde_plan
        pk, sk = plan.hash_key_name, plan.range_key_name
        actions = dict(plan.dbe_actions)
        unsigned |= plan.dbe_unsigned
    else:
        pk, sk = _table_keys(client, table)
        if getattr(args, f"{side}_default_action") not in (None, "nothing"):
            raise ConfigurationError(
                f"a DB-ESDK {side} side names every signed attribute: use --{side}-encrypt and "
                f"--{side}-sign (and --{side}-nothing), not --{side}-default-action"
            )
        actions = {}
        for action in ("encrypt", "sign", "nothing"):
            for name in _names(getattr(args, f"{side}_{action}")):
                actions[name] = _ACTIONS[action]
                if action == "nothing":
                    unsigned.add(name)
        for key in (pk, sk):
            if key is not None:
                actions.setdefault(key, CryptoAction.SIGN_ONLY)
    config = DynamoDbTableEncryptionConfig(
        logical_table_name=keyring.logical_table_name or table,
        partition_key_name=pk,
        sort_key_name=sk,
        attribute_actions_on_encrypt=actions,
        keyring=keyring.keyring,
        allowed_unsigned_attributes=sorted(unsigned),
        allowed_unsigned_attribute_prefix=keyring.allowed_unsigned_attribute_prefix,
        algorithm_suite_id=keyring.algorithm_suite,
    )
    return CryptoConfig(dbesdk=config)


def _job(args: argparse.Namespace, client: Any) -> ReencryptJob:
    job = _legacy_job(args, client)
    # Keyring config files make a side DB-ESDK (either side, or both).
    model = load_model(args.model) if args.model is not None else None
    new = dbesdk_side(args, client, "new", table=job.table_name, model=model)
    old = dbesdk_side(args, client, "old", table=job.table_name)
    if new is not None:
        job = dataclasses.replace(job, new=new)
    if old is not None:
        job = dataclasses.replace(job, old=old)
    return job


def _legacy_job(args: argparse.Namespace, client: Any) -> ReencryptJob:
    given_new_actions = actions_from_args(args, "new")
    insecure = args.allow_insecure_key_file
    old_provider = _provider(
        args.old_provider_config, client, "--old-provider-config", allow_insecure=insecure
    )
    new_provider = _provider(
        args.new_provider_config, client, "--new-provider-config", allow_insecure=insecure
    )
    new_keyring = args.new_provider_config is not None and is_keyring_config_file(
        args.new_provider_config
    )
    plaintext = UnsignedItemPolicy(args.plaintext)
    if args.model is not None:
        if given_new_actions is not None:
            raise ConfigurationError("with --model the new actions come from the model")
        model = load_model(args.model)
        job = job_for_model(
            model,
            old=CryptoConfig(materials_provider=old_provider),
            new_provider=new_provider,
            plaintext_policy=plaintext,
            current_check=_current_check(args),
        )
        if args.table is not None and args.table != job.table_name:
            raise ConfigurationError("--table differs from the model's table", table=args.table)
        old_actions = actions_from_args(args, "old") or model.get_attribute_actions()
        return dataclasses.replace(
            job,
            old=CryptoConfig(materials_provider=old_provider, attribute_actions=old_actions),
        )
    if args.table is None:
        raise ConfigurationError("give --table (or --model)")
    new_actions = given_new_actions or AttributeActions()
    old_actions = actions_from_args(args, "old") or new_actions
    if new_provider is None and not new_actions.take_no_actions and not new_keyring:
        raise ConfigurationError(
            "give --new-provider-config (or new actions that do nothing, to decrypt the table)"
        )
    return ReencryptJob(
        table_name=args.table,
        old=CryptoConfig(materials_provider=old_provider, attribute_actions=old_actions),
        new=CryptoConfig(materials_provider=new_provider, attribute_actions=new_actions),
        plaintext_policy=plaintext,
        current_check=_current_check(args),
    )


def _worker_job(args: argparse.Namespace) -> tuple[Any, ReencryptJob]:
    """The job factory of ``--processes``: each worker builds its own client and providers."""
    client = dynamodb_client(args)
    return client, _job(args, client)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``pynamodb-encryption reencrypt``."""
    client = dynamodb_client(args)
    job = _job(args, client)
    display = JobProgress(
        table=job.table_name,
        mode=progress_mode(args),
        prior=_checkpointed_items(args, job.table_name),
        interval=args.log_interval,
        force_terminal=bool(args.progress),
    )
    options = ReencryptOptions(
        segments=args.segments,
        page_size=args.page_size,
        checkpoint_path=args.checkpoint,
        max_items_per_second=args.max_items_per_second,
        max_capacity_per_second=args.max_capacity_per_second,
        dry_run=args.dry_run,
        max_reported_failures=args.max_failures,
        progress=display if display.mode != "off" else None,
        write_mode=WriteMode(args.write_mode),
    )
    display.start()
    try:
        if args.processes > 1:
            report = reencrypt_table_processes(
                functools.partial(_worker_job, args),
                options,
                processes=args.processes,
                checkpoint_location=args.checkpoint,
            )
        else:
            report = reencrypt_table(client, job, options)
    except KeyboardInterrupt:
        display.close(final=False)
        if args.checkpoint is not None:
            sys.stderr.write(f"stopped: rerun the same command to resume from {args.checkpoint}\n")
        raise
    except BaseException:
        display.close(final=False, emit=False)
        raise
    display.close()
    if args.json:
        dump_json(report.to_dict())
    else:
        print_document(report_document(report, checkpoint=args.checkpoint))
    return exit_code(report)


def progress_mode(args: argparse.Namespace) -> ProgressMode:
    """bar on a terminal (or with --progress), status lines elsewhere, off when asked."""
    if args.progress is False:
        return "off"
    if args.progress is None and verbosity(args) < 0:
        return "off"
    if args.progress or is_terminal(sys.stderr):
        if rich_available():
            return "bar"
        hint_missing_rich()
        return "line"
    return "lines"


def _checkpointed_items(args: argparse.Namespace, table: str) -> int:
    """Items a checkpoint already counts (0 for a new job; the job reports a bad file)."""
    if args.checkpoint is None or args.dry_run or not Path(args.checkpoint).is_file():
        return 0
    try:
        checkpoint = Checkpoint.open(args.checkpoint, table_name=table, segments=args.segments)
    except ConfigurationError:
        return 0
    return sum(checkpoint.state(s).items for s in range(args.segments))


def exit_code(report: ReencryptReport) -> int:
    """0 done, 1 failed or unfinished, 3 a dry run that found work (`EXIT_WORK_PENDING`)."""
    if not report.ok:
        return 1
    if report.dry_run and report.reencrypted:
        return EXIT_WORK_PENDING
    return 0
