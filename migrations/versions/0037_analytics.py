"""Edition analytics: analytics_snapshots (one pre-aggregated set of figures per edition, refreshed by Celery) and
the leads (exhibitor_id, rating) index for the exhibitor-results query.

Revision ID: 0037
Revises: 0036
"""
import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_snapshots",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], ondelete="CASCADE",
                                name=op.f("fk_analytics_snapshots_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_analytics_snapshots_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("edition_id", name=op.f("pk_analytics_snapshots")),
    )
    op.create_index(op.f("ix_analytics_snapshots_organizer_id"), "analytics_snapshots", ["organizer_id"])
    op.create_index("ix_leads_exhibitor_id_rating", "leads", ["exhibitor_id", "rating"])


def downgrade():
    op.drop_index("ix_leads_exhibitor_id_rating", table_name="leads")
    op.drop_index(op.f("ix_analytics_snapshots_organizer_id"), table_name="analytics_snapshots")
    op.drop_table("analytics_snapshots")
