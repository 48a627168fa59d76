"""Planned campaigns: the campaigns of a plan recorded by ``magcycle plan campaigns --db URL --record``.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("planned_campaigns",
                    sa.Column("id", sa.String(200), primary_key=True),
                    sa.Column("plan_id", sa.String(64), nullable=False),
                    sa.Column("family", sa.String(64), nullable=False),
                    sa.Column("custody", sa.String(16), nullable=False),
                    sa.Column("start", sa.String(10), nullable=False),
                    sa.Column("end", sa.String(10), nullable=False),
                    sa.Column("doc", sa.Text, nullable=False),
                    sa.Column("seq", sa.BigInteger, nullable=False))
    op.create_index("planned_campaigns_plan", "planned_campaigns", ["plan_id"])


def downgrade() -> None:
    op.drop_index("planned_campaigns_plan", "planned_campaigns")
    op.drop_table("planned_campaigns")
