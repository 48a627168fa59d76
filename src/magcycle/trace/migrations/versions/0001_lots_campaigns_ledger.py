"""Lots, campaigns, consumptions, element-account moves and the hash-chained ledger.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("settings", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table(
        "ledger",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False))
    op.create_table(
        "lots",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("product", sa.String(200)),
        sa.Column("supplier", sa.String(200)),
        sa.Column("category", sa.String(64)),
        sa.Column("consumer", sa.String(8)),
        sa.Column("mass_kg", sa.Float, nullable=False),
        sa.Column("gross_mass_kg", sa.Float),
        sa.Column("dated", sa.String(10), nullable=False),
        sa.Column("campaign_id", sa.String(200)),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False))
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("plant", sa.String(200), nullable=False),
        sa.Column("start", sa.String(10), nullable=False),
        sa.Column("end", sa.String(10), nullable=False),
        sa.Column("custody", sa.String(16), nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False))
    op.create_table(
        "consumptions",
        sa.Column("campaign_id", sa.String(200), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("lot_id", sa.String(200), sa.ForeignKey("lots.id"), primary_key=True),
        sa.Column("mass_kg", sa.Float, nullable=False))
    op.create_index("consumptions_lot", "consumptions", ["lot_id"])
    op.create_table(
        "account_moves",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("element", sa.String(4), nullable=False),
        sa.Column("attribute", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("lot_id", sa.String(200), nullable=False),
        sa.Column("delta_kg", sa.Float, nullable=False),
        sa.Column("balance_after_kg", sa.Float, nullable=False))
    op.create_index("account_moves_account", "account_moves", ["site", "element", "attribute", "period"])


def downgrade() -> None:
    for name in ("account_moves", "consumptions", "campaigns", "lots", "ledger", "settings"):
        op.drop_table(name)
