"""channel intake: sku aliases, consumer offsets, dead letters, outbox

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("intake",)
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sku_aliases",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value"),
    )
    op.create_index("ix_sku_aliases_sku", "sku_aliases", ["sku"])
    op.create_table(
        "intake_offsets",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group", "topic", "partition"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", POSITION, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(60), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("retried_at", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_dead_letters_origin",
        "dead_letters",
        ["source", "partition", "offset", "fingerprint"],
        unique=True,
    )
    op.create_index("ix_dead_letters_status", "dead_letters", ["status", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", POSITION, autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("ledger_position", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_dead_letters_status", "dead_letters")
    op.drop_index("ux_dead_letters_origin", "dead_letters")
    op.drop_table("dead_letters")
    op.drop_table("intake_offsets")
    op.drop_index("ix_sku_aliases_sku", "sku_aliases")
    op.drop_table("sku_aliases")
