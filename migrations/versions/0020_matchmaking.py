"""Matchmaking settings, exclusions and stored recommendations.

Recommendations are stored (top N each way per edition) with the signals' contributions and the structured
reasons, so that pages, the API, the CLI and the digests read rows and never run the engine.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "matchmaking_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("exclude_competitors", sa.Boolean(), nullable=False),
        sa.Column("exclude_met", sa.Boolean(), nullable=False),
        sa.Column("exclude_met_before", sa.Boolean(), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("run_started_at", sa.DateTime(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.Column("computed_rows", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("backtest", sa.JSON(), nullable=True),
        sa.Column("backtest_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('idle', 'queued', 'running', 'done', 'failed')",
                           name=op.f("ck_matchmaking_settings_valid_status")),
        sa.CheckConstraint("top_n BETWEEN 1 AND 50", name=op.f("ck_matchmaking_settings_valid_top_n")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_matchmaking_settings_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_matchmaking_settings_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matchmaking_settings")),
        sa.UniqueConstraint("edition_id", name=op.f("uq_matchmaking_settings_edition_id")),
    )
    with op.batch_alter_table("matchmaking_settings") as batch:
        batch.create_index(batch.f("ix_matchmaking_settings_organizer_id"), ["organizer_id"], unique=False)

    op.create_table(
        "matchmaking_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("reason IN ('blocked', 'dismissed')", name=op.f("ck_matchmaking_exclusions_valid_reason")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_matchmaking_exclusions_created_by_id_users")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"],
                                name=op.f("fk_matchmaking_exclusions_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_matchmaking_exclusions_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_matchmaking_exclusions_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_matchmaking_exclusions_registration_id_registrations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matchmaking_exclusions")),
        sa.UniqueConstraint("exhibitor_id", "registration_id",
                            name=op.f("uq_matchmaking_exclusions_exhibitor_id_registration_id")),
    )
    with op.batch_alter_table("matchmaking_exclusions") as batch:
        batch.create_index(batch.f("ix_matchmaking_exclusions_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_matchmaking_exclusions_edition_id"), ["edition_id"], unique=False)
        batch.create_index(batch.f("ix_matchmaking_exclusions_registration_id"), ["registration_id"], unique=False)
        batch.create_index(batch.f("ix_matchmaking_exclusions_created_by_id"), ["created_by_id"], unique=False)

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=1), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("direction IN ('v', 'e')", name=op.f("ck_recommendations_valid_direction")),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_recommendations_valid_rank")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_recommendations_edition_id_editions")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"],
                                name=op.f("fk_recommendations_exhibitor_id_exhibitors"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_recommendations_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"],
                                name=op.f("fk_recommendations_registration_id_registrations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("direction", "registration_id", "exhibitor_id",
                            name=op.f("uq_recommendations_direction_registration_id_exhibitor_id")),
    )
    with op.batch_alter_table("recommendations") as batch:
        batch.create_index(batch.f("ix_recommendations_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_recommendations_edition_id"), ["edition_id"], unique=False)
        batch.create_index("ix_recommendations_registration_id_direction_rank",
                           ["registration_id", "direction", "rank"], unique=False)
        batch.create_index("ix_recommendations_exhibitor_id_direction_rank",
                           ["exhibitor_id", "direction", "rank"], unique=False)


def downgrade():
    op.drop_table("recommendations")
    op.drop_table("matchmaking_exclusions")
    op.drop_table("matchmaking_settings")
