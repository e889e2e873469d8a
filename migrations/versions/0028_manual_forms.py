"""Exhibitor manual: forms with deadlines; staff badges with a quota.

manual_sections: the edition's manual text, chapter by chapter. manual_forms: forms every exhibitor fills in
by a deadline (fields as JSON, mandatory or not, reminder N days before). manual_submissions: an exhibitor's
answers to a form (submitted / reopened), one per form and exhibitor. manual_reminders: the reminder sent,
once per form and exhibitor. staff_badge_quotas: an edition's rule for staff badges (base + 1 per N m², an
optional cap). staff_badges: an exhibitor's booth staff registered for a badge (a registration).

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "manual_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_manual_sections_has_a_title")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_manual_sections_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_manual_sections_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_sections")),
    )
    with op.batch_alter_table("manual_sections") as batch:
        batch.create_index(batch.f("ix_manual_sections_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_manual_sections_edition_id"), ["edition_id"], unique=False)

    op.create_table(
        "manual_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("remind_days", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_manual_forms_has_a_title")),
        sa.CheckConstraint("remind_days BETWEEN 0 AND 90", name=op.f("ck_manual_forms_valid_remind_days")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_manual_forms_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_manual_forms_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_forms")),
    )
    with op.batch_alter_table("manual_forms") as batch:
        batch.create_index(batch.f("ix_manual_forms_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index("ix_manual_forms_edition_id_deadline", ["edition_id", "deadline"], unique=False)

    op.create_table(
        "manual_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('submitted', 'reopened')", name=op.f("ck_manual_submissions_valid_status")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_manual_submissions_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_manual_submissions_edition_id_editions")),
        sa.ForeignKeyConstraint(["form_id"], ["manual_forms.id"], ondelete="CASCADE",
                                name=op.f("fk_manual_submissions_form_id_manual_forms")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_manual_submissions_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"], name=op.f("fk_manual_submissions_submitted_by_id_users")),
        sa.ForeignKeyConstraint(["reopened_by_id"], ["users.id"], name=op.f("fk_manual_submissions_reopened_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_submissions")),
        sa.UniqueConstraint("form_id", "exhibitor_id", name=op.f("uq_manual_submissions_form_id_exhibitor_id")),
    )
    with op.batch_alter_table("manual_submissions") as batch:
        batch.create_index(batch.f("ix_manual_submissions_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_manual_submissions_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_manual_submissions_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_manual_submissions_submitted_by_id"), ["submitted_by_id"], unique=False)
        batch.create_index(batch.f("ix_manual_submissions_reopened_by_id"), ["reopened_by_id"], unique=False)

    op.create_table(
        "manual_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_manual_reminders_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["form_id"], ["manual_forms.id"], ondelete="CASCADE",
                                name=op.f("fk_manual_reminders_form_id_manual_forms")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_manual_reminders_exhibitor_id_exhibitors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_reminders")),
        sa.UniqueConstraint("form_id", "exhibitor_id", name=op.f("uq_manual_reminders_form_id_exhibitor_id")),
    )
    with op.batch_alter_table("manual_reminders") as batch:
        batch.create_index(batch.f("ix_manual_reminders_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_manual_reminders_exhibitor_id"), ["exhibitor_id"], unique=False)

    op.create_table(
        "staff_badge_quotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("per_m2", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("maximum", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("base BETWEEN 0 AND 1000", name=op.f("ck_staff_badge_quotas_valid_base")),
        sa.CheckConstraint("per_m2 IS NULL OR per_m2 > 0", name=op.f("ck_staff_badge_quotas_positive_per_m2")),
        sa.CheckConstraint("maximum IS NULL OR maximum >= 0", name=op.f("ck_staff_badge_quotas_valid_maximum")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_staff_badge_quotas_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_staff_badge_quotas_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_badge_quotas")),
        sa.UniqueConstraint("edition_id", name=op.f("uq_staff_badge_quotas_edition_id")),
    )
    with op.batch_alter_table("staff_badge_quotas") as batch:
        batch.create_index(batch.f("ix_staff_badge_quotas_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "staff_badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_staff_badges_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_staff_badges_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], name=op.f("fk_staff_badges_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_staff_badges_registration_id_registrations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_staff_badges_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_badges")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_staff_badges_registration_id")),
    )
    with op.batch_alter_table("staff_badges") as batch:
        batch.create_index(batch.f("ix_staff_badges_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_staff_badges_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_staff_badges_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_staff_badges_exhibitor_id_active", ["exhibitor_id", "removed_at"], unique=False)


def downgrade():
    op.drop_table("staff_badges")
    op.drop_table("staff_badge_quotas")
    op.drop_table("manual_reminders")
    op.drop_table("manual_submissions")
    op.drop_table("manual_forms")
    op.drop_table("manual_sections")
