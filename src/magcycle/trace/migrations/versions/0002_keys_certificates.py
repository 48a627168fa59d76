"""Signing keys (public halves only) and certificates with their status-list index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("retired_at", sa.String(40)),
        sa.Column("seq", sa.BigInteger, nullable=False))
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("lots.id"), nullable=False),
        sa.Column("status_index", sa.Integer, nullable=False, unique=True),
        sa.Column("issued_at", sa.String(40), nullable=False),
        sa.Column("credential", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.String(40)),
        sa.Column("seq", sa.BigInteger, nullable=False))


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("signing_keys")
