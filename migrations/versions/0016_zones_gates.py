"""Gates and zones (halls, conference rooms, VIP lounge) with access rules; scans remember zone and direction.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("access", sa.JSON(), nullable=False),
        sa.Column("reentry", sa.String(length=10), nullable=False),
        sa.Column("admission", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("reentry IN ('free', 'daily', 'none')", name=op.f("ck_zones_valid_reentry")),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name=op.f("ck_zones_valid_capacity")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_zones_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_zones_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
    )
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zones_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_zones_edition_id"), ["edition_id"], unique=False)

    op.create_table(
        "gates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out', 'both')", name=op.f("ck_gates_valid_direction")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_gates_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_gates_edition_id_editions")),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_gates_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gates")),
        sa.UniqueConstraint("edition_id", "code", name=op.f("uq_gates_edition_id_code")),
    )
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gates_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gates_edition_id"), ["edition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gates_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "zone_setups",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_zone_setups_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_zone_setups_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("edition_id", name=op.f("pk_zone_setups")),
    )
    with op.batch_alter_table("zone_setups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_setups_organizer_id"), ["organizer_id"], unique=False)

    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("direction", sa.String(length=3), nullable=True))
        batch_op.create_foreign_key(op.f("fk_scans_zone_id_zones"), "zones", ["zone_id"], ["id"])
        batch_op.create_check_constraint("valid_direction", "direction IS NULL OR direction IN ('in', 'out')")
        batch_op.create_index("ix_scans_zone_id_scanned_at", ["zone_id", "scanned_at"], unique=False)


def downgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_zone_id_scanned_at")
        batch_op.drop_constraint(op.f("ck_scans_valid_direction"), type_="check")
        batch_op.drop_constraint(op.f("fk_scans_zone_id_zones"), type_="foreignkey")
        batch_op.drop_column("direction")
        batch_op.drop_column("zone_id")
    op.drop_table("zone_setups")
    op.drop_table("gates")
    op.drop_table("zones")
