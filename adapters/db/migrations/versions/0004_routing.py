"""click-and-collect pickups booked per store and local day

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("routing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pickups",
        sa.Column("reservation_id", sa.String(200), primary_key=True),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("ready_by", sa.BigInteger, nullable=False),
        sa.Column("booked_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_pickups_location_day", "pickups", ["location", "day"])


def downgrade() -> None:
    op.drop_index("ix_pickups_location_day", table_name="pickups")
    op.drop_table("pickups")
