"""Booth sales: assignment rules, follow-ups (reminders) of the sales reps.

assignment_rules: per edition, in order: by region (country codes) or by industry category to one rep, or
round-robin among chosen reps (assignment_rule_reps, with whose turn it is). follow_ups: a rep's task about an
exhibitor, due at a moment, open/done/cancelled, mailed to the managers once when overdue (escalated_at).

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assignment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("countries", sa.String(length=400), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('region', 'category', 'round_robin')", name=op.f("ck_assignment_rules_valid_kind")),
        sa.CheckConstraint("(kind = 'region' AND countries <> '' AND rep_id IS NOT NULL)"
                           " OR (kind = 'category' AND category_id IS NOT NULL AND rep_id IS NOT NULL)"
                           " OR (kind = 'round_robin' AND rep_id IS NULL)",
                           name=op.f("ck_assignment_rules_complete_rule")),
        sa.CheckConstraint("next_index >= 0", name=op.f("ck_assignment_rules_next_index_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_assignment_rules_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_assignment_rules_edition_id_editions")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_rules_category_id_categories")),
        sa.ForeignKeyConstraint(["rep_id"], ["users.id"], name=op.f("fk_assignment_rules_rep_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_assignment_rules_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    with op.batch_alter_table("assignment_rules") as batch:
        batch.create_index(batch.f("ix_assignment_rules_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_assignment_rules_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_assignment_rules_category_id"), ["category_id"], unique=False)
        batch.create_index(batch.f("ix_assignment_rules_rep_id"), ["rep_id"], unique=False)
        batch.create_index(batch.f("ix_assignment_rules_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_assignment_rules_edition_id_position", ["edition_id", "position"], unique=False)

    op.create_table(
        "assignment_rule_reps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_assignment_rule_reps_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["rule_id"], ["assignment_rules.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_rule_reps_rule_id_assignment_rules")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assignment_rule_reps_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rule_reps")),
        sa.UniqueConstraint("rule_id", "user_id", name=op.f("uq_assignment_rule_reps_rule_id_user_id")),
    )
    with op.batch_alter_table("assignment_rule_reps") as batch:
        batch.create_index(batch.f("ix_assignment_rule_reps_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_assignment_rule_reps_user_id"), ["user_id"], unique=False)

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("snoozed", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name=op.f("ck_follow_ups_valid_status")),
        sa.CheckConstraint("title <> ''", name=op.f("ck_follow_ups_has_a_title")),
        sa.CheckConstraint("snoozed >= 0", name=op.f("ck_follow_ups_snoozed_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_follow_ups_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_follow_ups_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], ondelete="CASCADE",
                                name=op.f("fk_follow_ups_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["rep_id"], ["users.id"], name=op.f("fk_follow_ups_rep_id_users")),
        sa.ForeignKeyConstraint(["done_by_id"], ["users.id"], name=op.f("fk_follow_ups_done_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_follow_ups_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    with op.batch_alter_table("follow_ups") as batch:
        batch.create_index(batch.f("ix_follow_ups_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_follow_ups_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_follow_ups_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_follow_ups_done_by_id"), ["done_by_id"], unique=False)
        batch.create_index(batch.f("ix_follow_ups_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_follow_ups_rep_id_status_due_at", ["rep_id", "status", "due_at"], unique=False)
        batch.create_index("ix_follow_ups_status_escalated_at_due_at", ["status", "escalated_at", "due_at"],
                           unique=False)


def downgrade():
    op.drop_table("follow_ups")
    op.drop_table("assignment_rule_reps")
    op.drop_table("assignment_rules")
