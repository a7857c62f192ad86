"""hardening: staff sessions kept in the database; dead letters told apart by format too

Revision ID: 0005_hardening
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_hardening"
down_revision = "0001"
branch_labels = ("hardening",)
depends_on = ("0003",)  # the dead_letters table


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_staff_sessions_key_id", "staff_sessions", ["key_id"])
    op.create_index("ix_staff_sessions_expires_at", "staff_sessions", ["expires_at"])
    # two webhooks under different topics may carry the same body (partition/offset -1)
    op.drop_index("ux_dead_letters_origin", table_name="dead_letters")
    op.create_index(
        "ux_dead_letters_origin",
        "dead_letters",
        ["source", "partition", "offset", "format", "fingerprint"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_dead_letters_origin", table_name="dead_letters")
    op.create_index(
        "ux_dead_letters_origin",
        "dead_letters",
        ["source", "partition", "offset", "fingerprint"],
        unique=True,
    )
    op.drop_index("ix_staff_sessions_expires_at", table_name="staff_sessions")
    op.drop_index("ix_staff_sessions_key_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
