"""Accounts and sessions: server-side sessions, TOTP, emails unique per organizer or exhibitor (issue 6).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        # An email is unique where the account lives (the organizer's staff, or one exhibitor's staff), no
        # longer across the instance: adding a person never reveals that their address is used elsewhere.
        batch_op.drop_constraint("uq_users_email", type_="unique")
        batch_op.create_index(batch_op.f("ix_users_email"), ["email"], unique=False)
        batch_op.create_index("uq_users_organizer_id_email_staff", ["organizer_id", "email"], unique=True,
                              sqlite_where=sa.text("exhibitor_id IS NULL"),
                              postgresql_where=sa.text("exhibitor_id IS NULL"))
        batch_op.create_index("uq_users_exhibitor_id_email", ["exhibitor_id", "email"], unique=True,
                              sqlite_where=sa.text("exhibitor_id IS NOT NULL"),
                              postgresql_where=sa.text("exhibitor_id IS NOT NULL"))


def downgrade():
    # Going back needs emails unique again: fails if a person has accounts with two organizers.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("uq_users_exhibitor_id_email")
        batch_op.drop_index("uq_users_organizer_id_email_staff")
        batch_op.drop_index(batch_op.f("ix_users_email"))
        batch_op.create_unique_constraint("uq_users_email", ["email"])
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
