"""Qualification questions (versioned, conditional, bilingual) and visitor-category rules.

An edition's registration form asks its own questions (registration_questions: the current wording; every
wording a question had is a row of registration_question_versions). Category rules (category_rules) decide
a visitor's category from the answers; a registration remembers who set its category (the visitor, a rule,
staff) and which rule. Existing registrations keep their category, as chosen by the visitor; their answers
(plain values, without a version) stay readable as they are.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = "'text', 'single', 'multi', 'country', 'yes_no', 'number', 'date'"
CATEGORIES = "'buyer', 'trade_visitor', 'public', 'media', 'vip', 'exhibitor_staff', 'speaker'"


def upgrade():
    op.create_table(
        "registration_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label_en", sa.String(length=300), nullable=False),
        sa.Column("label_zh", sa.String(length=300), nullable=False),
        sa.Column("help_en", sa.String(length=500), nullable=False),
        sa.Column("help_zh", sa.String(length=500), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("condition_key", sa.String(length=40), nullable=True),
        sa.Column("condition_op", sa.String(length=10), nullable=True),
        sa.Column("condition_value", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_registration_questions_valid_kind")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_registration_questions_positive_version")),
        sa.CheckConstraint("condition_op IS NULL OR condition_op IN ('equals', 'contains')",
                           name=op.f("ck_registration_questions_valid_condition_op")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_registration_questions_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_registration_questions_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_questions")),
        sa.UniqueConstraint("edition_id", "key", name=op.f("uq_registration_questions_edition_id_key")),
    )
    with op.batch_alter_table("registration_questions") as batch:
        batch.create_index(batch.f("ix_registration_questions_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "registration_question_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label_en", sa.String(length=300), nullable=False),
        sa.Column("label_zh", sa.String(length=300), nullable=False),
        sa.Column("help_en", sa.String(length=500), nullable=False),
        sa.Column("help_zh", sa.String(length=500), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_registration_question_versions_valid_kind")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_registration_question_versions_created_by_id_users")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_registration_question_versions_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["question_id"], ["registration_questions.id"],
                                name=op.f("fk_registration_question_versions_question_id_registration_questions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_question_versions")),
        sa.UniqueConstraint("question_id", "version",
                            name=op.f("uq_registration_question_versions_question_id_version")),
    )
    with op.batch_alter_table("registration_question_versions") as batch:
        batch.create_index(batch.f("ix_registration_question_versions_created_by_id"), ["created_by_id"],
                           unique=False)
        batch.create_index(batch.f("ix_registration_question_versions_organizer_id"), ["organizer_id"],
                           unique=False)

    op.create_table(
        "category_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"category IN ({CATEGORIES})", name=op.f("ck_category_rules_valid_category")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_category_rules_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_category_rules_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_rules")),
    )
    with op.batch_alter_table("category_rules") as batch:
        batch.create_index(batch.f("ix_category_rules_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_category_rules_organizer_id"), ["organizer_id"], unique=False)

    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("category_set_by", sa.String(length=10), nullable=False,
                                   server_default="visitor"))
        batch.add_column(sa.Column("category_rule_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_registrations_category_rule_id_category_rules"), "category_rules",
                                 ["category_rule_id"], ["id"], ondelete="SET NULL")
        batch.create_index(batch.f("ix_registrations_category_rule_id"), ["category_rule_id"], unique=False)
        batch.create_check_constraint(op.f("ck_registrations_valid_category_set_by"),
                                      "category_set_by IN ('visitor', 'rule', 'staff')")


def downgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.drop_constraint(op.f("ck_registrations_valid_category_set_by"), type_="check")
        batch.drop_index(batch.f("ix_registrations_category_rule_id"))
        batch.drop_constraint(op.f("fk_registrations_category_rule_id_category_rules"), type_="foreignkey")
        batch.drop_column("category_rule_id")
        batch.drop_column("category_set_by")

    with op.batch_alter_table("category_rules") as batch:
        batch.drop_index(batch.f("ix_category_rules_organizer_id"))
        batch.drop_index(batch.f("ix_category_rules_edition_id"))
    op.drop_table("category_rules")

    with op.batch_alter_table("registration_question_versions") as batch:
        batch.drop_index(batch.f("ix_registration_question_versions_organizer_id"))
        batch.drop_index(batch.f("ix_registration_question_versions_created_by_id"))
    op.drop_table("registration_question_versions")

    with op.batch_alter_table("registration_questions") as batch:
        batch.drop_index(batch.f("ix_registration_questions_organizer_id"))
    op.drop_table("registration_questions")
