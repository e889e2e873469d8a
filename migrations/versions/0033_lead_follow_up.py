"""The exhibitor's follow-up status of a lead and its reminders (expo.leads).

leads: follow_up_status (to_contact, contacted, quote_sent, won, lost; existing leads "to_contact" by the server
default), who moved it last and when, the first move out of "to contact" (the organizer's "contacted within 7
days"), the next step's day (reminder) and the day a reminder was mailed for, the deal's value, the lost reason.
lead_follow_ups: every move of the status (the lead's history).

Revision ID: 0033
Revises: 0032
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

STATUSES = "('to_contact', 'contacted', 'quote_sent', 'won', 'lost')"


def upgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_status", sa.String(length=12), server_default="to_contact",
                                      nullable=False))
        batch_op.add_column(sa.Column("follow_up_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_followed_up_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_step_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("won_value", sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column("lost_reason", sa.String(length=300), server_default="", nullable=False))
        batch_op.create_foreign_key(batch_op.f("fk_leads_follow_up_by_id_users"), "users", ["follow_up_by_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_leads_follow_up_by_id"), ["follow_up_by_id"], unique=False)
        batch_op.create_index("ix_leads_exhibitor_id_follow_up_status", ["exhibitor_id", "follow_up_status"],
                              unique=False)
        batch_op.create_index("ix_leads_next_step_on", ["next_step_on"], unique=False)
        batch_op.create_check_constraint(batch_op.f("ck_leads_valid_follow_up_status"),
                                         f"follow_up_status IN {STATUSES}")
        batch_op.create_check_constraint(batch_op.f("ck_leads_won_value_not_negative"),
                                         "won_value IS NULL OR won_value >= 0")

    op.create_table(
        "lead_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=False),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("moved_at", sa.DateTime(), nullable=False),
        sa.Column("moved_by_id", sa.Integer(), nullable=True),
        sa.Column("next_step_on", sa.Date(), nullable=True),
        sa.Column("won_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("lost_reason", sa.String(length=300), nullable=False),
        sa.CheckConstraint(f"to_status IN {STATUSES}", name=op.f("ck_lead_follow_ups_valid_to_status")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_lead_follow_ups_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_lead_follow_ups_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_follow_ups_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["moved_by_id"], ["users.id"], name=op.f("fk_lead_follow_ups_moved_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_follow_ups")),
    )
    with op.batch_alter_table("lead_follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_follow_ups_moved_by_id"), ["moved_by_id"], unique=False)


def downgrade():
    with op.batch_alter_table("lead_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_moved_by_id"))
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_lead_id"))
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_exhibitor_id"))
        batch_op.drop_index(batch_op.f("ix_lead_follow_ups_organizer_id"))
    op.drop_table("lead_follow_ups")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_leads_won_value_not_negative"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_leads_valid_follow_up_status"), type_="check")
        batch_op.drop_index("ix_leads_next_step_on")
        batch_op.drop_index("ix_leads_exhibitor_id_follow_up_status")
        batch_op.drop_index(batch_op.f("ix_leads_follow_up_by_id"))
        batch_op.drop_constraint(batch_op.f("fk_leads_follow_up_by_id_users"), type_="foreignkey")
        batch_op.drop_column("lost_reason")
        batch_op.drop_column("won_value")
        batch_op.drop_column("reminded_on")
        batch_op.drop_column("next_step_on")
        batch_op.drop_column("first_followed_up_at")
        batch_op.drop_column("follow_up_by_id")
        batch_op.drop_column("follow_up_at")
        batch_op.drop_column("follow_up_status")
