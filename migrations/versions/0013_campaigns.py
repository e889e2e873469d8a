"""Campaigns: segments, mailings, recipients, unsubscribes, link tracking.

unsubscribes: addresses (normalized) that asked for no more marketing mail from an organizer (core).
campaigns: a segment (saved filters, JSON), the edition invited to, the mail in English and Chinese, the
status and the sending's bookkeeping (recipients counted at the start, the minute of the last batch).
campaign_recipients: one row per campaign and person (never mailed twice), the mail, the first link opening.
registrations.campaign_id: the campaign whose tracked link a registration came through.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unsubscribes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_unsubscribes_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsubscribes")),
        sa.UniqueConstraint("organizer_id", "email_key", name=op.f("uq_unsubscribes_organizer_id_email_key")),
    )
    with op.batch_alter_table("unsubscribes") as batch:
        batch.create_index(batch.f("ix_unsubscribes_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("subject_en", sa.String(length=300), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("subject_zh", sa.String(length=300), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("last_batch_at", sa.DateTime(), nullable=True),
        sa.Column("link_base", sa.String(length=300), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'sending', 'paused', 'sent')", name=op.f("ck_campaigns_valid_status")),
        sa.CheckConstraint("recipient_count >= 0", name=op.f("ck_campaigns_non_negative_recipient_count")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_campaigns_created_by_id_users")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_campaigns_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_campaigns_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.create_index(batch.f("ix_campaigns_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index(batch.f("ix_campaigns_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_campaigns_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("clicked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'skipped')", name=op.f("ck_campaign_recipients_valid_status")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_campaign_recipients_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["message_id"], ["mail_messages.id"], ondelete="SET NULL",
                                name=op.f("fk_campaign_recipients_message_id_mail_messages")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_campaign_recipients_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_campaign_recipients_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint("campaign_id", "person_id", name=op.f("uq_campaign_recipients_campaign_id_person_id")),
    )
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.create_index("ix_campaign_recipients_campaign_id_status", ["campaign_id", "status"], unique=False)
        batch.create_index(batch.f("ix_campaign_recipients_message_id"), ["message_id"], unique=False)
        batch.create_index(batch.f("ix_campaign_recipients_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_campaign_recipients_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_registrations_campaign_id_campaigns"), "campaigns", ["campaign_id"], ["id"])
        batch.create_index(batch.f("ix_registrations_campaign_id"), ["campaign_id"], unique=False)


def downgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.drop_index(batch.f("ix_registrations_campaign_id"))
        batch.drop_constraint(op.f("fk_registrations_campaign_id_campaigns"), type_="foreignkey")
        batch.drop_column("campaign_id")
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
    op.drop_table("unsubscribes")
