"""The exhibitor's own lead-qualifying questions and the lead's answers.

Answers are rows (one per value; a multiple-choice answer is a row per chosen value) keyed by the question's
stable key, so the lead list filters and counts by answer in plain SQL on SQLite and PostgreSQL alike.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lead_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label_en", sa.String(length=300), nullable=False),
        sa.Column("label_zh", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('text', 'single', 'multi', 'yes_no')", name=op.f("ck_lead_questions_valid_kind")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_lead_questions_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_lead_questions_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_questions")),
        sa.UniqueConstraint("exhibitor_id", "key", name=op.f("uq_lead_questions_exhibitor_id_key")),
    )
    with op.batch_alter_table("lead_questions") as batch:
        batch.create_index(batch.f("ix_lead_questions_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "lead_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_lead_answers_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_answers_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_lead_answers_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_answers")),
    )
    with op.batch_alter_table("lead_answers") as batch:
        batch.create_index(batch.f("ix_lead_answers_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index("ix_lead_answers_lead_id_question_key", ["lead_id", "question_key"], unique=False)
        batch.create_index("ix_lead_answers_exhibitor_id_question_key", ["exhibitor_id", "question_key"],
                           unique=False)


def downgrade():
    op.drop_table("lead_answers")
    op.drop_table("lead_questions")
