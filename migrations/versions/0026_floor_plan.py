"""Floor plan: halls and stands.

halls: an edition's hall, a rectangle of width × depth metres. stands: a stand drawn in a hall (x, y, w, h in
metres), its number, floor area and booth type, and the exhibitor it is assigned to (one exhibitor per stand by
its one column, one stand per exhibitor by a unique key).

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "halls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("width_m", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("depth_m", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("width_m > 0 AND depth_m > 0", name=op.f("ck_halls_positive_size")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_halls_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_halls_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_halls")),
        sa.UniqueConstraint("edition_id", "name", name=op.f("uq_halls_edition_id_name")),
    )
    with op.batch_alter_table("halls") as batch:
        batch.create_index(batch.f("ix_halls_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_halls_edition_id"), ["edition_id"], unique=False)

    op.create_table(
        "stands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("area_m2", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("booth_type_id", sa.Integer(), nullable=True),
        sa.Column("x", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("y", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("w", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("h", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("area_m2 > 0", name=op.f("ck_stands_positive_area")),
        sa.CheckConstraint("x >= 0 AND y >= 0 AND w > 0 AND h > 0", name=op.f("ck_stands_valid_rectangle")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_stands_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_stands_edition_id_editions")),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], ondelete="CASCADE", name=op.f("fk_stands_hall_id_halls")),
        sa.ForeignKeyConstraint(["booth_type_id"], ["booth_types.id"], name=op.f("fk_stands_booth_type_id_booth_types")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], name=op.f("fk_stands_exhibitor_id_exhibitors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stands")),
        sa.UniqueConstraint("hall_id", "number", name=op.f("uq_stands_hall_id_number")),
        sa.UniqueConstraint("exhibitor_id", name=op.f("uq_stands_exhibitor_id")),
    )
    with op.batch_alter_table("stands") as batch:
        batch.create_index(batch.f("ix_stands_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_stands_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_stands_hall_id"), ["hall_id"], unique=False)
        batch.create_index(batch.f("ix_stands_booth_type_id"), ["booth_type_id"], unique=False)


def downgrade():
    op.drop_table("stands")
    op.drop_table("halls")
