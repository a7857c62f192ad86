"""What the staff page shows of references: order numbers, never a person's details.

A hold for a customer carries an opaque subject id in the ledger; the page names the customer
from the personal-data store while it holds the name (an open hold), and otherwise shows no
more than that it was for a customer.  Staff holds recorded before personal data was kept
apart carried the typed name as their reference; those are not shown either.
"""

from __future__ import annotations

from typing import Any

from inventory.events import RESERVATION_TYPES, StockEvent
from inventory.personal import is_subject_id

STAFF_CHANNEL = "staff"
FOR_A_CUSTOMER = "for a customer"


def line_reference(line: StockEvent) -> str:
    """The *why* table's reference column for one ledger line."""
    personal = is_subject_id(line.reference) or (
        line.channel == STAFF_CHANNEL and line.type in RESERVATION_TYPES
    )
    if personal:
        return FOR_A_CUSTOMER if line.reason is None else f"{FOR_A_CUSTOMER}, {line.reason}"
    return line.reference or line.reason or ""


def hold_label(hold: Any) -> str:
    """How a hold or pickup is named in its list: the customer's name while it is kept, an
    order number, else the reservation id."""
    if hold.customer:
        return str(hold.customer)
    if hold.reference and not is_subject_id(hold.reference) and hold.channel != STAFF_CHANNEL:
        return str(hold.reference)
    return str(hold.reservation_id)
