"""The web application's accounts: users (name, role, argon2 hash), bearer tokens and browser sessions.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("users",
                    sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("role", sa.String(16), nullable=False),
                    sa.Column("password_hash", sa.Text, nullable=False),
                    sa.Column("created_at", sa.String(40), nullable=False),
                    sa.Column("seq", sa.BigInteger, nullable=False))
    for name in ("api_tokens", "web_sessions"):
        columns = [sa.Column("digest", sa.String(64), primary_key=True),
                   sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False)]
        if name == "web_sessions":
            columns.append(sa.Column("csrf", sa.String(64), nullable=False))
        columns += [sa.Column("created_at", sa.String(40), nullable=False),
                    sa.Column("expires_at", sa.String(40), nullable=False),
                    sa.Column("revoked_at", sa.String(40))]
        op.create_table(name, *columns)


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
