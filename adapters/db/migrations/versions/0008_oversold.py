"""oversold positions: the set kept by appends, and outbox rows that say a position crossed

Revision ID: 0008_oversold
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_oversold"
down_revision = "0001"
branch_labels = ("oversold",)
depends_on = ("0003",)  # the outbox table


def upgrade() -> None:
    op.create_table(
        "oversold_positions",
        sa.Column("sku", sa.String(200), primary_key=True),
        sa.Column("location", sa.String(200), primary_key=True),
        sa.Column("since_position", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_oversold_positions_location", "oversold_positions", ["location"])
    # positions oversold already (by their stored figures: a superset, judged again on reads)
    op.execute(
        "INSERT INTO oversold_positions (sku, location, since_position) "
        "SELECT sku, location, last_position FROM positions WHERE reserved > on_hand"
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(24), nullable=False, server_default="availability_changed")
        )
        batch.add_column(sa.Column("oversold", sa.Boolean()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("oversold")
        batch.drop_column("kind")
    op.drop_index("ix_oversold_positions_location", table_name="oversold_positions")
    op.drop_table("oversold_positions")
