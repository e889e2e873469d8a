"""Badge layouts per visitor category and batch badge jobs.

One row per edition and visitor category that the organizer styled: the colour of the badge's band and the
label printed in it (English and Chinese). Categories without a row print with the defaults in
expo/visitors/badge_layouts.py. Batch printing uses the core jobs table (0011): no table of its own.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CATEGORIES = ("buyer", "trade_visitor", "public", "media", "vip", "exhibitor_staff", "speaker")


def upgrade():
    op.create_table(
        "badge_layouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("label_en", sa.String(length=40), nullable=False),
        sa.Column("label_zh", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("category IN (" + ", ".join(repr(c) for c in CATEGORIES) + ")",
                           name=op.f("ck_badge_layouts_valid_category")),
        sa.CheckConstraint("length(colour) = 7 AND colour LIKE '#%'", name=op.f("ck_badge_layouts_valid_colour")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_badge_layouts_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_badge_layouts_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_badge_layouts_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_layouts")),
        sa.UniqueConstraint("edition_id", "category", name=op.f("uq_badge_layouts_edition_id_category")),
    )
    with op.batch_alter_table("badge_layouts") as batch:
        batch.create_index(batch.f("ix_badge_layouts_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_badge_layouts_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_badge_layouts_updated_by_id"), ["updated_by_id"], unique=False)


def downgrade():
    with op.batch_alter_table("badge_layouts") as batch:
        batch.drop_index(batch.f("ix_badge_layouts_updated_by_id"))
        batch.drop_index(batch.f("ix_badge_layouts_organizer_id"))
        batch.drop_index(batch.f("ix_badge_layouts_edition_id"))
    op.drop_table("badge_layouts")
