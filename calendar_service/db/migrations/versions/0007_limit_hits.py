"""One table for every limit counted per key (sign-ins per account and address, proposals per
address): ``limit_hits``, written and counted under a lock so that limits hold under concurrent
requests and across processes. The rows of the two former logs move into it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_limit_hits"),
    )
    op.create_index("ix_limit_hits_key_at_us", "limit_hits", ["key", "at_us"])
    op.execute("INSERT INTO limit_hits (key, at_us) SELECT key, at_us FROM sign_in_failures")
    op.execute(
        "INSERT INTO limit_hits (key, at_us) SELECT 'proposal:' || address, at_us FROM proposal_log"
    )
    op.drop_table("sign_in_failures")
    op.drop_table("proposal_log")


def downgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index("ix_sign_in_failures_key_at_us", "sign_in_failures", ["key", "at_us"])
    op.create_table(
        "proposal_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_log"),
    )
    op.create_index("ix_proposal_log_address_at_us", "proposal_log", ["address", "at_us"])
    op.execute(
        "INSERT INTO sign_in_failures (key, at_us) SELECT key, at_us FROM limit_hits "
        "WHERE key NOT LIKE 'proposal:%'"
    )
    op.execute(
        "INSERT INTO proposal_log (address, at_us) SELECT substr(key, 10), at_us FROM limit_hits "
        "WHERE key LIKE 'proposal:%'"
    )
    op.drop_table("limit_hits")
