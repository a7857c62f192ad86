"""personal data beside the ledger: who a reservation is for, purged after it ends

Revision ID: 0007_personal_data
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_personal_data"
down_revision = "0001"
branch_labels = ("personal_data",)
depends_on = None

INDEXES = {
    "ix_personal_data_reservation": ["reservation_id"],
    "ix_personal_data_name_key": ["name_key"],
    "ix_personal_data_contact_key": ["contact_key"],
    "ix_personal_data_phone_key": ["phone_key"],
    "ix_personal_data_ended": ["ended_at"],
}


def upgrade() -> None:
    op.create_table(
        "personal_data",
        sa.Column("subject_id", sa.String(200), primary_key=True),
        sa.Column("reservation_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("contact", sa.String(300)),
        sa.Column("name_key", sa.String(300), nullable=False),
        sa.Column("contact_key", sa.String(300)),
        sa.Column("phone_key", sa.String(40)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("ended_at", sa.BigInteger),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "personal_data", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="personal_data")
    op.drop_table("personal_data")
