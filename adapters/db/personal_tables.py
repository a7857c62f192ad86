"""The personal-data store: details about people, kept beside the ledger and never in it.

One row per reservation made for a named person.  The ledger's events carry only the opaque
`subject_id` (as their `reference`); this row, which can be deleted, says who it was.
`name_key` and `contact_key` hold the normalised forms an erasure request is matched by
(`inventory.personal.lookup_keys`).  `ended_at` is set when the reservation stops holding;
the purge deletes the row a retention period after that.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from adapters.db.tables import Name, metadata

personal_data = Table(
    "personal_data",
    metadata,
    Column("subject_id", Name, primary_key=True),
    Column("reservation_id", Name, nullable=False),
    Column("name", String(300), nullable=False),
    Column("contact", String(300)),
    Column("name_key", String(300), nullable=False),
    Column("contact_key", String(300)),
    Column("phone_key", String(40)),
    Column("created_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    Index("ix_personal_data_reservation", "reservation_id"),
    Index("ix_personal_data_name_key", "name_key"),
    Index("ix_personal_data_contact_key", "contact_key"),
    Index("ix_personal_data_phone_key", "phone_key"),
    Index("ix_personal_data_ended", "ended_at"),
)
