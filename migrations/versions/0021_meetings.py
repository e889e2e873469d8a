"""Meeting slots, meetings (with the indexes that rule out double booking) and meeting caps per visitor category.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

LIVE_WHERE = "status IN ('requested', 'accepted', 'attended', 'no_show')"
OPEN_WHERE = "status IN ('requested', 'accepted')"
STATUS_CHECK = "status IN ('requested', 'accepted', 'declined', 'cancelled', 'attended', 'no_show')"


def upgrade():
    op.create_table(
        "meeting_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("table_label", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_meeting_slots_ends_after_start")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_meeting_slots_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_meeting_slots_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_meeting_slots_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_meeting_slots_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_slots")),
        sa.UniqueConstraint("exhibitor_id", "table_label", "starts_at",
                            name=op.f("uq_meeting_slots_exhibitor_id_table_label_starts_at")),
    )
    with op.batch_alter_table("meeting_slots") as batch:
        batch.create_index(batch.f("ix_meeting_slots_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_meeting_slots_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_meeting_slots_edition_id_starts_at", ["edition_id", "starts_at"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=True),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("uid", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(STATUS_CHECK, name=op.f("ck_meetings_valid_status")),
        sa.CheckConstraint("requested_by IN ('visitor', 'exhibitor')", name=op.f("ck_meetings_valid_requested_by")),
        sa.CheckConstraint("(slot_id IS NULL AND starts_at IS NULL AND ends_at IS NULL) OR "
                           "(starts_at IS NOT NULL AND ends_at > starts_at)",
                           name=op.f("ck_meetings_slot_has_time")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_meetings_sequence_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_meetings_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_meetings_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], name=op.f("fk_meetings_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_meetings_registration_id_registrations")),
        sa.ForeignKeyConstraint(["slot_id"], ["meeting_slots.id"], name=op.f("fk_meetings_slot_id_meeting_slots"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_meetings_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    with op.batch_alter_table("meetings") as batch:
        batch.create_index(batch.f("ix_meetings_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_meetings_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_meetings_edition_id_status_starts_at", ["edition_id", "status", "starts_at"],
                           unique=False)
        batch.create_index("uq_meetings_slot_id_live", ["slot_id"], unique=True,
                           sqlite_where=sa.text(LIVE_WHERE), postgresql_where=sa.text(LIVE_WHERE))
        batch.create_index("uq_meetings_exhibitor_id_registration_id_open", ["exhibitor_id", "registration_id"],
                           unique=True, sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))
        batch.create_index("uq_meetings_registration_id_starts_at_live", ["registration_id", "starts_at"],
                           unique=True, sqlite_where=sa.text(LIVE_WHERE), postgresql_where=sa.text(LIVE_WHERE))

    op.create_table(
        "meeting_caps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("max_meetings", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_meetings >= 0", name=op.f("ck_meeting_caps_max_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_meeting_caps_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_meeting_caps_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_caps")),
        sa.UniqueConstraint("edition_id", "category", name=op.f("uq_meeting_caps_edition_id_category")),
    )
    with op.batch_alter_table("meeting_caps") as batch:
        batch.create_index(batch.f("ix_meeting_caps_organizer_id"), ["organizer_id"], unique=False)


def downgrade():
    op.drop_table("meeting_caps")
    op.drop_table("meetings")
    op.drop_table("meeting_slots")
