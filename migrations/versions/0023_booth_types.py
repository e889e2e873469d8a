"""Booth sales, the part every issue-8 floor shares: booth types with a price per m², the deal's fields on
exhibitors (booth type, expected close date, lost reason), and an edition's own closing chance per stage.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

STATUSES = "status IN ('prospect', 'contacted', 'negotiating', 'contracted', 'paid', 'exhibited', 'lost', 'cancelled')"


def upgrade():
    op.create_table(
        "booth_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("price_per_m2", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("price_per_m2 >= 0", name=op.f("ck_booth_types_price_not_negative")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_booth_types_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_booth_types_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booth_types")),
        sa.UniqueConstraint("edition_id", "code", name=op.f("uq_booth_types_edition_id_code")),
    )
    with op.batch_alter_table("booth_types") as batch:
        batch.create_index(batch.f("ix_booth_types_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_booth_types_edition_id"), ["edition_id"], unique=False)

    with op.batch_alter_table("exhibitors") as batch:
        batch.add_column(sa.Column("booth_type_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expected_close_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("lost_reason", sa.String(length=500), nullable=False, server_default=""))
        batch.create_foreign_key(batch.f("fk_exhibitors_booth_type_id_booth_types"), "booth_types",
                                 ["booth_type_id"], ["id"])
        batch.create_index(batch.f("ix_exhibitors_booth_type_id"), ["booth_type_id"], unique=False)

    op.create_table(
        "stage_probabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_stage_probabilities_valid_status")),
        sa.CheckConstraint("percent BETWEEN 0 AND 100", name=op.f("ck_stage_probabilities_valid_percent")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_stage_probabilities_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_stage_probabilities_edition_id_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_probabilities")),
        sa.UniqueConstraint("edition_id", "status", name=op.f("uq_stage_probabilities_edition_id_status")),
    )
    with op.batch_alter_table("stage_probabilities") as batch:
        batch.create_index(batch.f("ix_stage_probabilities_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_stage_probabilities_edition_id"), ["edition_id"], unique=False)


def downgrade():
    op.drop_table("stage_probabilities")
    with op.batch_alter_table("exhibitors") as batch:
        batch.drop_index(batch.f("ix_exhibitors_booth_type_id"))
        batch.drop_constraint(batch.f("fk_exhibitors_booth_type_id_booth_types"), type_="foreignkey")
        batch.drop_column("lost_reason")
        batch.drop_column("expected_close_on")
        batch.drop_column("booth_type_id")
    op.drop_table("booth_types")
