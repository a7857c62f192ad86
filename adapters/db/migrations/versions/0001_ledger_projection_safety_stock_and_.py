"""ledger, projection, safety stock and locations

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:55:05.560922
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("on_hand_delta", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reservation_id", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("destination", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_destination",
            ["destination", "sku"],
            unique=False,
            sqlite_where=sa.text("destination IS NOT NULL"),
            postgresql_where=sa.text("destination IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_events_key_time", ["sku", "location", "occurred_at"], unique=False
        )

    op.create_table(
        "locations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("postal_code", sa.String(length=40), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("pickup_enabled", sa.Boolean(), nullable=False),
        sa.Column("ship_enabled", sa.Boolean(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=True),
        sa.Column("handling_minutes", sa.Integer(), nullable=False),
        sa.Column("pickup_capacity", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index("ix_locations_kind", ["kind"], unique=False)

    op.create_table(
        "positions",
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("count_at", sa.BigInteger(), nullable=True),
        sa.Column("count_event_id", sa.String(length=200), nullable=True),
        sa.Column("count_quantity", sa.BigInteger(), nullable=True),
        sa.Column("in_transit", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("reserved_expiry", sa.BigInteger(), nullable=True),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location"),
    )
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.create_index("ix_positions_location", ["location", "sku"], unique=False)

    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.BigInteger(), nullable=False),
        sa.Column("fulfilled", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("never_expires", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("reservation_id", "sku", "location"),
    )
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.create_index("ix_reservation_lines_key", ["sku", "location", "held"], unique=False)
        batch_op.create_index("ix_reservation_lines_location", ["location", "held"], unique=False)

    op.create_table(
        "safety_stock",
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("location", "sku"),
    )
    op.create_table(
        "transfer_legs",
        sa.Column("sku", sa.String(length=200), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "destination", "reference"),
    )


def downgrade() -> None:
    op.drop_table("transfer_legs")
    op.drop_table("safety_stock")
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_reservation_lines_location")
        batch_op.drop_index("ix_reservation_lines_key")

    op.drop_table("reservation_lines")
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_index("ix_positions_location")

    op.drop_table("positions")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("ix_locations_kind")

    op.drop_table("locations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_key_time")
        batch_op.drop_index("ix_events_destination")

    op.drop_table("events")
