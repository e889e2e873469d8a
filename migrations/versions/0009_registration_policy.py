"""Registration policy: open and close dates, capacity per category with a waiting list, approval, invitation-only mode, exhibitor invitation codes, group registration.

registration_policies: one row per edition (open/close times in UTC, invitation-only mode).
category_settings: per edition and visitor category, the places (NULL: no limit) and whether staff approve.
invitation_codes: an exhibitor's (or the organizer's) codes, with an optional usage limit.
registrations: the inviting exhibitor and code, the group contact, the reason staff gave for a refusal.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CATEGORIES = "category IN ('buyer', 'trade_visitor', 'public', 'media', 'vip', 'exhibitor_staff', 'speaker')"


def upgrade():
    op.create_table(
        "registration_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=True),
        sa.Column("closes_at", sa.DateTime(), nullable=True),
        sa.Column("invitation_only", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
                           name=op.f("ck_registration_policies_dates_in_order")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_registration_policies_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_registration_policies_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_policies")),
        sa.UniqueConstraint("edition_id", name=op.f("uq_registration_policies_edition_id")),
    )
    with op.batch_alter_table("registration_policies") as batch:
        batch.create_index(batch.f("ix_registration_policies_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "category_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.CheckConstraint(CATEGORIES, name=op.f("ck_category_settings_valid_category")),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_category_settings_capacity_not_negative")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_category_settings_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_category_settings_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_settings")),
        sa.UniqueConstraint("edition_id", "category", name=op.f("uq_category_settings_edition_id_category")),
    )
    with op.batch_alter_table("category_settings") as batch:
        batch.create_index(batch.f("ix_category_settings_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_category_settings_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "invitation_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name=op.f("ck_invitation_codes_positive_max_uses")),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_invitation_codes_uses_not_negative")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_invitation_codes_created_by_id_users")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_invitation_codes_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_invitation_codes_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_invitation_codes_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_invitation_codes_code")),
    )
    with op.batch_alter_table("invitation_codes") as batch:
        batch.create_index(batch.f("ix_invitation_codes_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index(batch.f("ix_invitation_codes_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_invitation_codes_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_invitation_codes_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index("uq_invitation_codes_exhibitor_id_default", ["exhibitor_id"], unique=True,
                           sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"))

    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("invited_by_exhibitor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invitation_code_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("group_contact_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.String(length=500), nullable=False, server_default=""))
        batch.create_foreign_key(op.f("fk_registrations_invited_by_exhibitor_id_exhibitors"), "exhibitors",
                                 ["invited_by_exhibitor_id"], ["id"])
        batch.create_foreign_key(op.f("fk_registrations_invitation_code_id_invitation_codes"), "invitation_codes",
                                 ["invitation_code_id"], ["id"])
        batch.create_foreign_key(op.f("fk_registrations_group_contact_id_registrations"), "registrations",
                                 ["group_contact_id"], ["id"])
        batch.create_index(batch.f("ix_registrations_invited_by_exhibitor_id"), ["invited_by_exhibitor_id"],
                           unique=False)
        batch.create_index(batch.f("ix_registrations_invitation_code_id"), ["invitation_code_id"], unique=False)
        batch.create_index(batch.f("ix_registrations_group_contact_id"), ["group_contact_id"], unique=False)


def downgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.drop_index(batch.f("ix_registrations_group_contact_id"))
        batch.drop_index(batch.f("ix_registrations_invitation_code_id"))
        batch.drop_index(batch.f("ix_registrations_invited_by_exhibitor_id"))
        batch.drop_constraint(op.f("fk_registrations_group_contact_id_registrations"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_registrations_invitation_code_id_invitation_codes"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_registrations_invited_by_exhibitor_id_exhibitors"), type_="foreignkey")
        batch.drop_column("status_reason")
        batch.drop_column("group_contact_id")
        batch.drop_column("invitation_code_id")
        batch.drop_column("invited_by_exhibitor_id")
    op.drop_table("invitation_codes")
    op.drop_table("category_settings")
    op.drop_table("registration_policies")
