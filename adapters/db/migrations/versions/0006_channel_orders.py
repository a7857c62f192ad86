"""channel orders: the facts seen per platform order and what the ledger holds for it

Revision ID: 0006_channel_orders
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_channel_orders"
down_revision = "0001"
branch_labels = ("channel_orders",)
depends_on = None

COUNTS = ("reserved", "released", "fulfilled", "unshipped", "returned", "unreturned")


def upgrade() -> None:
    op.create_table(
        "channel_orders",
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "order_id"),
    )
    op.create_table(
        "channel_order_holdings",
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("channel", "order_id", "sku", "location"),
    )


def downgrade() -> None:
    op.drop_table("channel_order_holdings")
    op.drop_table("channel_orders")
