"""LTI 1.3: platform registrations and deployments, nonces, the tool's keys, launches, handoffs.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lti_registrations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("auth_login_url", sa.Text(), nullable=False),
        sa.Column("auth_token_url", sa.Text(), nullable=False),
        sa.Column("jwks_url", sa.Text(), nullable=False),
        sa.Column("token_audience", sa.Text(), nullable=True),
        sa.Column("frame_origins", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_registration"),
    )
    op.create_table(
        "lti_deployments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "registration_id",
            sa.String(32),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("xapi_endpoint", sa.Text(), nullable=True),
        sa.Column("xapi_auth", sa.Text(), nullable=True),
        sa.Column("xapi_include_text", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployment"),
    )
    op.create_index("ix_lti_deployments_registration_id", "lti_deployments", ["registration_id"])
    op.create_table(
        "lti_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("registration_id", sa.String(32), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_lti_nonces_expires_at", "lti_nonces", ["expires_at"])
    op.create_table(
        "lti_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("retired_at", TIMESTAMP, nullable=True),
        sa.Column("published_until", TIMESTAMP, nullable=True),
    )
    op.create_table(
        "lti_sessions",
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("registration_id", sa.String(32), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("resource_link_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_lti_sessions_link", "lti_sessions", ["registration_id", "resource_link_id"])
    op.create_table(
        "lti_handoffs",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_lti_handoffs_session_id", "lti_handoffs", ["session_id"])


def downgrade() -> None:
    op.drop_table("lti_handoffs")
    op.drop_table("lti_sessions")
    op.drop_table("lti_keys")
    op.drop_table("lti_nonces")
    op.drop_table("lti_deployments")
    op.drop_table("lti_registrations")
