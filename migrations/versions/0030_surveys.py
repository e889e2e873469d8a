"""Surveys: questionnaires, questions, responses and answers (expo.surveys).

surveys: one questionnaire of an edition for its visitors or its exhibitors (audience), bilingual title and
introduction, draft / open / closed. survey_questions: its questions in order (nps, rating, single, multiple,
text) with bilingual text and options and a required flag. survey_responses: one per taker (unique per survey
and registration, or survey and exhibitor) with the NPS score; survey_answers: one per question answered.

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("intro_en", sa.Text(), nullable=False),
        sa.Column("intro_zh", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("audience IN ('visitor', 'exhibitor')", name=op.f("ck_surveys_valid_audience")),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f("ck_surveys_valid_status")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_surveys_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_surveys_edition_id_editions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_surveys_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_edition_id"), ["edition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_created_by_id"), ["created_by_id"], unique=False)

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text_en", sa.String(length=500), nullable=False),
        sa.Column("text_zh", sa.String(length=500), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('nps', 'rating', 'single', 'multiple', 'text')",
                           name=op.f("ck_survey_questions_valid_kind")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_survey_questions_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name=op.f("fk_survey_questions_survey_id_surveys"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
    )
    with op.batch_alter_table("survey_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_questions_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_questions_survey_id"), ["survey_id"], unique=False)

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(registration_id IS NULL) <> (exhibitor_id IS NULL)",
                           name=op.f("ck_survey_responses_one_taker")),
        sa.CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name=op.f("ck_survey_responses_nps_in_range")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_survey_responses_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_survey_responses_edition_id_editions")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_survey_responses_registration_id_registrations")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_survey_responses_person_id_persons")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_survey_responses_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_survey_responses_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", "registration_id",
                            name=op.f("uq_survey_responses_survey_id_registration_id")),
        sa.UniqueConstraint("survey_id", "exhibitor_id", name=op.f("uq_survey_responses_survey_id_exhibitor_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        for column in ("organizer_id", "survey_id", "registration_id", "person_id", "exhibitor_id", "company_id"):
            batch_op.create_index(batch_op.f(f"ix_survey_responses_{column}"), [column], unique=False)
        batch_op.create_index("ix_survey_responses_edition_id_survey_id", ["edition_id", "survey_id"], unique=False)

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_survey_answers_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["response_id"], ["survey_responses.id"],
                                name=op.f("fk_survey_answers_response_id_survey_responses"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["survey_questions.id"],
                                name=op.f("fk_survey_answers_question_id_survey_questions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("response_id", "question_id", name=op.f("uq_survey_answers_response_id_question_id")),
    )
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        for column in ("organizer_id", "response_id", "question_id"):
            batch_op.create_index(batch_op.f(f"ix_survey_answers_{column}"), [column], unique=False)


def downgrade():
    op.drop_table("survey_answers")
    op.drop_table("survey_responses")
    op.drop_table("survey_questions")
    op.drop_table("surveys")
