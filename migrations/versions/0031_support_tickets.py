"""Support tickets with SLA deadlines, owners, escalation and resolution (expo.support).

support_tickets: complaints, suggestions and requests about a company (through its exhibitor row) or a person
(through a registration), from the portal, a visitor's signed link or staff; urgency, status, owner, the SLA
deadline fixed at creation (due_at), first response, resolution, escalation and the requester's rating.
support_ticket_notes: the staff's notes on a ticket. support_sla_settings: working days by urgency, holidays and
make-up working days, for an organizer (edition_id NULL) or one edition.

Revision ID: 0031
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=200), server_default="", nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sla_days", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), server_default="", nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved', 'closed')",
                           name=op.f("ck_support_tickets_valid_status")),
        sa.CheckConstraint("kind IN ('complaint', 'suggestion', 'request')",
                           name=op.f("ck_support_tickets_valid_kind")),
        sa.CheckConstraint("urgency IN ('urgent', 'normal')", name=op.f("ck_support_tickets_valid_urgency")),
        sa.CheckConstraint("source IN ('portal', 'visitor', 'staff')", name=op.f("ck_support_tickets_valid_source")),
        sa.CheckConstraint("company_id IS NOT NULL OR person_id IS NOT NULL",
                           name=op.f("ck_support_tickets_about_a_customer")),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_support_tickets_valid_rating")),
        sa.CheckConstraint("sla_days BETWEEN 1 AND 60", name=op.f("ck_support_tickets_valid_sla_days")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_support_tickets_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_support_tickets_edition_id_editions")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_support_tickets_company_id_companies")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_support_tickets_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_support_tickets_person_id_persons")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_support_tickets_registration_id_registrations")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_support_tickets_owner_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_support_tickets_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
    )
    with op.batch_alter_table("support_tickets") as batch:
        for column in ("organizer_id", "edition_id", "company_id", "exhibitor_id", "person_id", "registration_id",
                       "owner_id", "created_by_id"):
            batch.create_index(op.f(f"ix_support_tickets_{column}"), [column], unique=False)
        batch.create_index("ix_support_tickets_organizer_id_edition_id_status",
                           ["organizer_id", "edition_id", "status"], unique=False)

    op.create_table(
        "support_ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_support_ticket_notes_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["ticket_id"], ["support_tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_support_ticket_notes_ticket_id_support_tickets")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_support_ticket_notes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_ticket_notes")),
    )
    with op.batch_alter_table("support_ticket_notes") as batch:
        for column in ("organizer_id", "ticket_id", "user_id"):
            batch.create_index(op.f(f"ix_support_ticket_notes_{column}"), [column], unique=False)

    op.create_table(
        "support_sla_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("urgent_days", sa.Integer(), nullable=False),
        sa.Column("normal_days", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("urgent_days BETWEEN 1 AND 60 AND normal_days BETWEEN 1 AND 60",
                           name=op.f("ck_support_sla_settings_valid_days")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_support_sla_settings_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_support_sla_settings_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_sla_settings")),
    )
    with op.batch_alter_table("support_sla_settings") as batch:
        batch.create_index(op.f("ix_support_sla_settings_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index("uq_support_sla_settings_organizer_id_default", ["organizer_id"], unique=True,
                           sqlite_where=sa.text("edition_id IS NULL"), postgresql_where=sa.text("edition_id IS NULL"))
        batch.create_index("uq_support_sla_settings_edition_id", ["edition_id"], unique=True,
                           sqlite_where=sa.text("edition_id IS NOT NULL"),
                           postgresql_where=sa.text("edition_id IS NOT NULL"))


def downgrade():
    op.drop_table("support_sla_settings")
    op.drop_table("support_ticket_notes")
    op.drop_table("support_tickets")
