"""Rebooking offers to last edition's exhibitors.

rebooking_offers: one offer per (offered edition, company), made to a company that took part in an earlier
edition of the show (from_edition_id, exhibitor_id), with its results there (leads, hot leads, meetings,
satisfaction), a deadline, a priority window for booth choice, the stage an acceptance puts it in, and the
answer (accepted with the area and booth wished, or declined with a reason); new_exhibitor_id is the
exhibitor row an acceptance made.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rebooking_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("from_edition_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("priority_from", sa.Date(), nullable=True),
        sa.Column("priority_until", sa.Date(), nullable=True),
        sa.Column("accept_stage", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("hot_leads", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("mailed_to", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.String(length=20), nullable=True),
        sa.Column("decline_note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("wanted_area_m2", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("booth_wish", sa.String(length=500), server_default="", nullable=False),
        sa.Column("new_exhibitor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')",
                           name=op.f("ck_rebooking_offers_valid_status")),
        sa.CheckConstraint("decline_reason IS NULL OR decline_reason IN ('budget', 'results', 'dates', 'other_show', "
                           "'business', 'other')", name=op.f("ck_rebooking_offers_valid_decline_reason")),
        sa.CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL",
                           name=op.f("ck_rebooking_offers_declined_with_reason")),
        sa.CheckConstraint("accept_stage IN ('negotiating', 'contracted')",
                           name=op.f("ck_rebooking_offers_valid_accept_stage")),
        sa.CheckConstraint("edition_id <> from_edition_id", name=op.f("ck_rebooking_offers_another_edition")),
        sa.CheckConstraint("priority_from IS NULL OR priority_until IS NULL OR priority_from <= priority_until",
                           name=op.f("ck_rebooking_offers_priority_window_in_order")),
        sa.CheckConstraint("leads >= 0 AND hot_leads >= 0 AND hot_leads <= leads AND meetings >= 0",
                           name=op.f("ck_rebooking_offers_results_not_negative")),
        sa.CheckConstraint("wanted_area_m2 IS NULL OR wanted_area_m2 > 0",
                           name=op.f("ck_rebooking_offers_positive_wanted_area")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_rebooking_offers_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_rebooking_offers_edition_id_editions")),
        sa.ForeignKeyConstraint(["from_edition_id"], ["editions.id"],
                                name=op.f("fk_rebooking_offers_from_edition_id_editions")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_rebooking_offers_company_id_companies")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_rebooking_offers_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_rebooking_offers_created_by_id_users")),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"], name=op.f("fk_rebooking_offers_answered_by_id_users")),
        sa.ForeignKeyConstraint(["new_exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_rebooking_offers_new_exhibitor_id_exhibitors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebooking_offers")),
        sa.UniqueConstraint("edition_id", "company_id", name=op.f("uq_rebooking_offers_edition_id_company_id")),
    )
    with op.batch_alter_table("rebooking_offers") as batch:
        batch.create_index(batch.f("ix_rebooking_offers_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_from_edition_id"), ["from_edition_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_company_id"), ["company_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_answered_by_id"), ["answered_by_id"], unique=False)
        batch.create_index(batch.f("ix_rebooking_offers_new_exhibitor_id"), ["new_exhibitor_id"], unique=False)


def downgrade():
    op.drop_table("rebooking_offers")
