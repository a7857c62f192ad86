"""Ledger commands: ingest, stock, history, replay, verify, safety-stock."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
from tqdm import tqdm

from adapters.cli import add_db_option, readable
from adapters.db.database import Database
from adapters.db.replay import rebuild, verify
from adapters.intake import ingest_file
from inventory.events import format_instant, to_micros
from inventory.projection import Position
from schemas.events import parse_instant


def register(subparsers: Any) -> None:
    ingest = subparsers.add_parser("ingest", help="append the events of a JSON Lines file")
    ingest.add_argument("file", help="JSON Lines file of contract events ('-' for stdin)")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    add_db_option(ingest)
    ingest.set_defaults(func=cmd_ingest)

    stock = subparsers.add_parser("stock", help="stock of a SKU per location")
    stock.add_argument("sku")
    stock.add_argument("--location", help="only this location")
    stock.add_argument("--as-of", dest="as_of", help="RFC 3339 instant (event time)")
    stock.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_db_option(stock)
    stock.set_defaults(func=cmd_stock)

    history = subparsers.add_parser(
        "history", help="the ledger lines of a SKU at a location, in event-time order"
    )
    history.add_argument("sku")
    history.add_argument("--location", required=True, help="the location (required)")
    history.add_argument(
        "--limit", type=int, default=1000, help="show at most this many lines, the newest"
    )
    history.add_argument(
        "--oldest-first", action="store_true", help="oldest line first (default: newest first)"
    )
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    add_db_option(history)
    history.set_defaults(func=cmd_history)

    replay = subparsers.add_parser("replay", help="rebuild the projection from the ledger")
    add_db_option(replay)
    replay.set_defaults(func=cmd_replay)

    check = subparsers.add_parser("verify", help="compare the projection with a replay")
    add_db_option(check)
    check.set_defaults(func=cmd_verify)

    safety = subparsers.add_parser("safety-stock", help="set or list safety stock")
    safety.add_argument("location", nargs="?", help="location to set")
    safety.add_argument("quantity", nargs="?", type=int, help="units held back from sale")
    safety.add_argument("--sku", help="only for this SKU (default: every SKU there)")
    add_db_option(safety)
    safety.set_defaults(func=cmd_safety)


def cmd_ingest(args: argparse.Namespace) -> int:
    readable(args.file)
    db = Database(args.db)
    if args.file == "-":
        report = ingest_file(db, sys.stdin.buffer)
    else:
        with open(args.file, "rb") as stream:
            report = ingest_file(db, stream)
    rejected = sorted(report.rejected, key=lambda r: r.line)
    if args.json:
        body = {
            **report.summary(),
            "lines": report.lines,
            "stopped_at": report.stopped_at,
            "stop_reason": report.stop_reason,
            "errors": [
                {
                    "line": r.line,
                    "event_id": r.event_id,
                    "status": r.status,
                    "errors": [{"field": x.field, "reason": x.reason} for x in r.reasons],
                }
                for r in rejected
            ],
        }
        print(orjson.dumps(body).decode())
    else:
        summary = report.summary()
        print(" ".join(f"{name}={value}" for name, value in summary.items()))
        for r in rejected:
            reasons = "; ".join(f"{x.field or 'event'}: {x.reason}" for x in r.reasons)
            print(f"line {r.line} {r.status} ({r.event_id or '-'}): {reasons}")
    if report.stopped_at is not None:
        print(
            f"stopped: committed {report.lines} lines before line {report.stopped_at}; "
            f"line {report.stopped_at} and after not applied: {report.stop_reason}",
            file=sys.stderr,
        )
    return 1 if rejected or report.stopped_at is not None else 0


def cmd_stock(args: argparse.Namespace) -> int:
    db = Database(args.db)
    if args.as_of:
        try:
            instant = to_micros(parse_instant(args.as_of))
        except Exception:
            print("--as-of: expected an RFC 3339 timestamp with offset", file=sys.stderr)
            return 2
        positions = db.reader.as_of(args.sku, instant, args.location)
        as_of = format_instant(instant)
    else:
        positions = db.reader.positions(sku=args.sku, location=args.location)
        as_of = format_instant(db.reader.clock())
    _print_positions(args.sku, as_of, positions, args.json)
    return 0


def _print_positions(sku: str, as_of: str, positions: list[Position], as_json: bool) -> None:
    if as_json:
        body = {
            "sku": sku,
            "as_of": as_of,
            "total_available": sum(p.available for p in positions),
            "locations": [{k: v for k, v in p.as_dict().items() if k != "sku"} for p in positions],
        }
        print(orjson.dumps(body).decode())
        return
    print(f"{sku} as of {as_of}")
    header = f"{'location':<16}{'on_hand':>9}{'reserved':>10}{'in_transit':>12}{'safety':>8}"
    print(header + f"{'available':>11}  flags")
    for p in positions:
        print(
            f"{p.location:<16}{p.on_hand:>9}{p.reserved:>10}{p.in_transit:>12}"
            f"{p.safety_stock:>8}{p.available:>11}  {','.join(p.flags)}"
        )
    print(f"total available: {sum(p.available for p in positions)}")


def cmd_history(args: argparse.Namespace) -> int:
    db = Database(args.db)
    lines = db.reader.history(
        args.sku, args.location, limit=args.limit, by_event_time=True, newest_first=True
    )
    if args.oldest_first:
        lines.reverse()
    if not args.json:
        order = "oldest first" if args.oldest_first else "newest first"
        if not lines:
            print(f"no ledger lines for {args.sku} at {args.location}: none")
        else:
            print(f"{len(lines)} ledger lines for {args.sku} at {args.location}, {order}")
    for position, event in lines:
        if args.json:
            print(orjson.dumps({"position": position, **event.content()}).decode())
        else:
            extra = " ".join(
                f"{k}={v}"
                for k, v in event.content().items()
                if k in ("channel", "reference", "reservation_id", "destination", "reason")
            )
            print(
                f"{position:>10} {format_instant(event.occurred_at)} {event.type.value:<20}"
                f"{event.quantity:>7} {event.location:<12} {event.event_id} {extra}"
            )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    db = Database(args.db)
    total = db.reader.count_events()
    with tqdm(total=total, unit="ev", desc="replay", disable=None) as bar:
        replayed = rebuild(db.engines, bar.update)
    print(f"rebuilt {len(replayed.book.stock)} positions from {replayed.events} events")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    db = Database(args.db)
    total = db.reader.count_events()
    with tqdm(total=total, unit="ev", desc="verify", disable=None) as bar:
        differences = verify(db.engines, bar.update)
    for d in differences:
        print(
            f"{d.sku} @ {d.location}: live (on_hand, in_transit, reserved)={d.live} "
            f"replay={d.replayed}"
        )
    print(f"{len(differences)} differences")
    return 1 if differences else 0


def cmd_safety(args: argparse.Namespace) -> int:
    db = Database(args.db)
    if args.location is not None:
        if args.quantity is None or args.quantity < 0:
            print("quantity: a whole number of zero or more is required", file=sys.stderr)
            return 2
        db.set_safety_stock(args.location, args.quantity, args.sku)
    for location, sku, quantity in db.safety_stock_rows():
        print(f"{location:<16}{sku or '*':<24}{quantity:>6}")
    return 0
