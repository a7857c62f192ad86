"""`inventory forget --customer REF`: erase a person's data wherever the product keeps it.

The personal-data records REF names (a name, phone number or e-mail address as given, a
`customer-…` subject id or a reservation id) are deleted, and so are the bytes of every dead
letter that mentions REF or those records' values.  The ledger and the stock are unchanged:
`inventory verify` passes as before.  The report names ids and counts only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from adapters.cli import add_db_option
from adapters.db.database import Database
from inventory.services.personal import forget


def register(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "forget",
        help="erase a person's data (personal-data store, dead letters); the ledger stays",
    )
    command.add_argument(
        "--customer",
        required=True,
        metavar="REF",
        help="a name, phone number or e-mail address as given, a customer-… id or a reservation id",
    )
    command.add_argument("--json", action="store_true", help="print the report as JSON")
    add_db_option(command)
    command.set_defaults(func=cmd_forget)


def cmd_forget(args: argparse.Namespace) -> int:
    reference = args.customer.strip()
    if not reference:
        print("error: --customer needs a name, phone number, e-mail address or id", file=sys.stderr)
        return 2
    db = Database(args.db)
    try:
        report = forget(db.unit_of_work, reference)
    finally:
        db.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    print(
        f"erased {len(report.records)} personal-data record(s) and "
        f"{len(report.dead_letters)} dead letter(s); the ledger is unchanged"
    )
    for record in report.records:
        print(f"  personal data {record.subject_id} (reservation {record.reservation_id})")
    for letter_id in report.dead_letters:
        print(f"  dead letter {letter_id}: bytes erased")
    return 0
