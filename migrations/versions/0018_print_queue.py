"""The on-site badge print queue (walk-up kiosk and desk).

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("badge_serial", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("station", sa.String(length=60), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'printing', 'printed', 'failed', 'cancelled')",
                           name=op.f("ck_print_jobs_valid_status")),
        sa.CheckConstraint("origin IN ('kiosk', 'desk', 'reissue')", name=op.f("ck_print_jobs_valid_origin")),
        sa.CheckConstraint("badge_serial >= 1", name=op.f("ck_print_jobs_positive_badge_serial")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_print_jobs_attempts_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_print_jobs_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_print_jobs_edition_id_editions")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_print_jobs_registration_id_registrations")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_print_jobs_requested_by_id_users")),
        sa.ForeignKeyConstraint(["done_by_id"], ["users.id"], name=op.f("fk_print_jobs_done_by_id_users")),
        sa.ForeignKeyConstraint(["claimed_by_id"], ["users.id"], name=op.f("fk_print_jobs_claimed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
        sa.UniqueConstraint("edition_id", "request_key", name=op.f("uq_print_jobs_edition_id_request_key")),
    )
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_print_jobs_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_jobs_registration_id"), ["registration_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_jobs_requested_by_id"), ["requested_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_jobs_done_by_id"), ["done_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_jobs_claimed_by_id"), ["claimed_by_id"], unique=False)
        batch_op.create_index("ix_print_jobs_edition_id_status", ["edition_id", "status"], unique=False)
        batch_op.create_index("uq_print_jobs_registration_id_queued", ["registration_id"], unique=True,
                              sqlite_where=sa.text("status IN ('queued', 'printing')"),
                              postgresql_where=sa.text("status IN ('queued', 'printing')"))


def downgrade():
    op.drop_table("print_jobs")
