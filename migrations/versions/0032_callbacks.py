"""Call-back lists, their scripted questions and calls (expo.support).

call_lists: a list per edition and audience (exhibitors or visitors), with the selection it was made from and
its callers; call_questions: its script, in order; call_targets: the customers on it (an exhibitor and its
company, or a registration and its person) with their caller, status, attempts and the time they are due again;
calls: one row per attempt (unique per customer and attempt number) with its outcome, answers and note.

Revision ID: 0032
Revises: 0031
"""
import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "call_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("caller_ids", sa.JSON(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("audience IN ('exhibitor', 'visitor')", name=op.f("ck_call_lists_valid_audience")),
        sa.CheckConstraint("max_attempts BETWEEN 1 AND 20", name=op.f("ck_call_lists_attempts_in_range")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_call_lists_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_call_lists_edition_id_editions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_call_lists_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_lists")),
    )
    with op.batch_alter_table("call_lists") as batch:
        batch.create_index(batch.f("ix_call_lists_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_call_lists_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_call_lists_created_by_id"), ["created_by_id"], unique=False)

    op.create_table(
        "call_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("call_list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text_en", sa.String(length=300), nullable=False),
        sa.Column("text_zh", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('yes_no', 'rating', 'choice', 'text')", name=op.f("ck_call_questions_valid_kind")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_call_questions_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["call_list_id"], ["call_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_call_questions_call_list_id_call_lists")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_questions")),
    )
    with op.batch_alter_table("call_questions") as batch:
        batch.create_index(batch.f("ix_call_questions_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_call_questions_call_list_id"), ["call_list_id"], unique=False)

    op.create_table(
        "call_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("call_list_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("caller_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_called_at", sa.DateTime(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(exhibitor_id IS NULL AND company_id IS NULL AND registration_id IS NOT NULL "
                           "AND person_id IS NOT NULL) OR (exhibitor_id IS NOT NULL AND company_id IS NOT NULL "
                           "AND registration_id IS NULL AND person_id IS NULL)",
                           name=op.f("ck_call_targets_one_customer")),
        sa.CheckConstraint("status IN ('pending', 'call_back', 'reached', 'refused', 'wrong_number', 'unreachable')",
                           name=op.f("ck_call_targets_valid_status")),
        sa.CheckConstraint("last_outcome IS NULL OR last_outcome IN ('reached', 'no_answer', 'call_back', "
                           "'wrong_number', 'refused')", name=op.f("ck_call_targets_valid_last_outcome")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_call_targets_attempts_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_call_targets_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["call_list_id"], ["call_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_call_targets_call_list_id_call_lists")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], name=op.f("fk_call_targets_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_call_targets_company_id_companies")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_call_targets_registration_id_registrations")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_call_targets_person_id_persons")),
        sa.ForeignKeyConstraint(["caller_id"], ["users.id"], name=op.f("fk_call_targets_caller_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_targets")),
        sa.UniqueConstraint("call_list_id", "exhibitor_id", name=op.f("uq_call_targets_call_list_id_exhibitor_id")),
        sa.UniqueConstraint("call_list_id", "registration_id",
                            name=op.f("uq_call_targets_call_list_id_registration_id")),
    )
    with op.batch_alter_table("call_targets") as batch:
        batch.create_index(batch.f("ix_call_targets_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_call_targets_call_list_id"), ["call_list_id"], unique=False)
        batch.create_index(batch.f("ix_call_targets_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_call_targets_company_id"), ["company_id"], unique=False)
        batch.create_index(batch.f("ix_call_targets_registration_id"), ["registration_id"], unique=False)
        batch.create_index(batch.f("ix_call_targets_person_id"), ["person_id"], unique=False)
        batch.create_index("ix_call_targets_queue", ["caller_id", "status", "due_at"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("call_list_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("caller_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("call_back_at", sa.DateTime(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("outcome IN ('reached', 'no_answer', 'call_back', 'wrong_number', 'refused')",
                           name=op.f("ck_calls_valid_outcome")),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_calls_attempt_positive")),
        sa.CheckConstraint("outcome <> 'call_back' OR call_back_at IS NOT NULL", name=op.f("ck_calls_call_back_has_time")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_calls_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["call_list_id"], ["call_lists.id"], ondelete="CASCADE",
                                name=op.f("fk_calls_call_list_id_call_lists")),
        sa.ForeignKeyConstraint(["target_id"], ["call_targets.id"], ondelete="CASCADE",
                                name=op.f("fk_calls_target_id_call_targets")),
        sa.ForeignKeyConstraint(["caller_id"], ["users.id"], name=op.f("fk_calls_caller_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("target_id", "attempt", name=op.f("uq_calls_target_id_attempt")),
    )
    with op.batch_alter_table("calls") as batch:
        batch.create_index(batch.f("ix_calls_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_calls_call_list_id"), ["call_list_id"], unique=False)
        batch.create_index(batch.f("ix_calls_caller_id"), ["caller_id"], unique=False)


def downgrade():
    op.drop_table("calls")
    op.drop_table("call_targets")
    op.drop_table("call_questions")
    op.drop_table("call_lists")
