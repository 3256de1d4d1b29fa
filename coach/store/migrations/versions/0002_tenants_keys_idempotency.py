"""Tenants and learners on sessions, integrator API keys, idempotency keys on turns.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=True))
        batch.add_column(sa.Column("learner", sa.String(200), nullable=True))
    op.create_index("ix_sessions_tenant_learner", "sessions", ["tenant", "learner"])
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])
    with op.batch_alter_table("turns") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_turn_idempotency_key", ["session_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.drop_constraint("uq_turn_idempotency_key", type_="unique")
        batch.drop_column("idempotency_key")
    op.drop_table("api_keys")
    op.drop_index("ix_sessions_created_at", "sessions")
    op.drop_index("ix_sessions_tenant_learner", "sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("learner")
        batch.drop_column("tenant")
