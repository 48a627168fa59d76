"""The ledger's Merkle frontier (its RFC 6962 root in O(log n)), and indexes the audit and genealogy read by.

Revision ID: 0003
Revises: 0002
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from magcycle.trace.ledger import frontier_push

    op.create_table("ledger_frontier", sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("size", sa.BigInteger, nullable=False), sa.Column("nodes", sa.Text, nullable=False))
    op.create_index("lots_seq", "lots", ["seq"])
    op.create_index("lots_campaign", "lots", ["campaign_id"])
    op.create_index("account_moves_seq", "account_moves", ["seq"])
    bind = op.get_bind()
    nodes, size = [], 0
    for (h,) in bind.execute(sa.text("SELECT entry_hash FROM ledger ORDER BY seq")):
        nodes = frontier_push(nodes, h)
        size += 1
    bind.execute(sa.text("INSERT INTO ledger_frontier (id, size, nodes) VALUES (1, :size, :nodes)"),
                 {"size": size, "nodes": json.dumps(nodes)})


def downgrade() -> None:
    op.drop_index("account_moves_seq", "account_moves")
    op.drop_index("lots_campaign", "lots")
    op.drop_index("lots_seq", "lots")
    op.drop_table("ledger_frontier")
