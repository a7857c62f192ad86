"""Reconciliation commands: `reconcile` a counted snapshot, export a `snapshot` of the ledger."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from adapters.cli import add_db_option, not_text, readable
from adapters.db.database import Database
from adapters.reconcile.export import export_snapshot
from adapters.reconcile.job import Options, Reconciliation, reconcile
from adapters.reconcile.report import summary, write_reports
from adapters.reconcile.snapshot import SnapshotError
from inventory.events import to_micros
from schemas.events import parse_instant


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "reconcile",
        help="compare a counted snapshot with the ledger, report drift, optionally correct it",
        description="Exit 0 within --max-drift, 1 beyond it, 2 on a bad snapshot file.",
    )
    run.add_argument("snapshot", help="CSV or JSON Lines of sku, location, on_hand[, counted_at]")
    run.add_argument(
        "--as-of",
        dest="as_of",
        help="instant for rows without counted_at "
        "(RFC 3339; default: the file's modification time)",
    )
    run.add_argument("--apply", action="store_true", help="append count events that correct it")
    run.add_argument(
        "--report",
        metavar="DIR",
        help="write discrepancies.csv, summary.json and report.html into DIR",
    )
    run.add_argument(
        "--max-drift",
        dest="max_drift",
        type=int,
        default=0,
        metavar="N",
        help="units of absolute drift tolerated before exiting 1 (default 0)",
    )
    run.add_argument(
        "--locations",
        nargs="+",
        metavar="LOC",
        help="compare only these locations (default: those in the file)",
    )
    run.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file name")
    add_db_option(run)
    run.set_defaults(func=cmd_reconcile)

    export = subparsers.add_parser(
        "snapshot", help="export on-hand per SKU and location as of an instant (reconcile's format)"
    )
    export.add_argument("--as-of", dest="as_of", help="RFC 3339 instant (default: now)")
    export.add_argument("--locations", nargs="+", metavar="LOC", help="only these locations")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format")
    add_db_option(export)
    export.set_defaults(func=cmd_snapshot)


def _instant(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return to_micros(parse_instant(text))
    except Exception:
        raise ValueError(
            f"{option}: expected an RFC 3339 timestamp with offset, e.g. 2026-05-01T21:00:00Z"
        ) from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    path = Path(args.snapshot)
    readable(path)
    if args.max_drift < 0:
        print("--max-drift: must be zero or more", file=sys.stderr)
        return 2
    try:
        as_of = _instant(args.as_of, "--as-of")
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    options = Options(path, as_of, args.apply, args.locations, args.max_drift, args.format)
    db = Database(args.db)
    try:
        with (
            tqdm(unit="row", desc="snapshot", disable=None, leave=False) as rows,
            tqdm(unit="ev", desc="ledger", disable=None, leave=False) as events,
        ):
            result = reconcile(db, options, rows.update, events.update)
    except UnicodeDecodeError as error:
        raise not_text(path, error) from None
    except SnapshotError as error:
        print(f"{path}: {error}; nothing compared or applied", file=sys.stderr)
        return 2
    finally:
        db.close()
    if args.report:
        write_reports(result, Path(args.report))
    _print_summary(result)
    return result.exit_code


def _print_summary(result: Reconciliation) -> None:
    body = summary(result, top=5)
    print(
        f"as of {body['as_of']}: {body['keys']} keys, {body['discrepancies']} discrepancies, "
        f"drift {body['drift_units']} units (max {body['max_drift']}), net {body['net_delta']:+d}"
    )
    print("  " + " ".join(f"{k}={v}" for k, v in body["classes"].items()))
    if body["flags"]:
        print("  flags: " + " ".join(f"{k}={v}" for k, v in body["flags"].items()))
    if body["top_skus"]:
        top = ", ".join(f"{s['sku']} ({s['drift_units']})" for s in body["top_skus"])
        print(f"  top drifting SKUs: {top}")
    applied = body.get("applied")
    if applied is not None:
        print(
            f"  applied: {applied['accepted']} count events appended, "
            f"{applied['duplicate']} already recorded, {applied['conflict']} refused"
        )


def cmd_snapshot(args: argparse.Namespace) -> int:
    try:
        at = _instant(args.as_of, "--as-of")
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    db = Database(args.db)
    try:
        instant = db.reader.clock() if at is None else at
        with tqdm(unit="ev", desc="ledger", disable=None, leave=False, file=sys.stderr) as bar:
            export_snapshot(db, sys.stdout, instant, args.locations, args.format, bar.update)
    finally:
        db.close()
    return 0
