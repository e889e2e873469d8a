"""Rebooking and return predictions: runs, scores, backtests (expo.postshow).

prediction_runs: one computation for (edition, kind "exhibitor"/"visitor") with its status, message, the number
of pairs trained on and customers scored, and the backtest metrics (JSON). prediction_scores: per run, one row
per company or person (subject_id) with the probability, the reasons (JSON) and the features (JSON).

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "prediction_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("trained_on", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('exhibitor', 'visitor')", name=op.f("ck_prediction_runs_valid_kind")),
        sa.CheckConstraint("status IN ('queued', 'done', 'too_little_history', 'failed')",
                           name=op.f("ck_prediction_runs_valid_status")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_prediction_runs_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_prediction_runs_edition_id_editions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_prediction_runs_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_runs")),
    )
    op.create_index(op.f("ix_prediction_runs_organizer_id"), "prediction_runs", ["organizer_id"])
    op.create_index(op.f("ix_prediction_runs_created_by_id"), "prediction_runs", ["created_by_id"])
    op.create_index("ix_prediction_runs_edition_id_kind_created_at", "prediction_runs",
                    ["edition_id", "kind", "created_at"])
    op.create_table(
        "prediction_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.CheckConstraint("probability >= 0 AND probability <= 1",
                           name=op.f("ck_prediction_scores_probability_in_range")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_prediction_scores_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["run_id"], ["prediction_runs.id"], ondelete="CASCADE",
                                name=op.f("fk_prediction_scores_run_id_prediction_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_scores")),
    )
    op.create_index(op.f("ix_prediction_scores_organizer_id"), "prediction_scores", ["organizer_id"])
    op.create_index("ix_prediction_scores_run_id_probability", "prediction_scores", ["run_id", "probability"])
    op.create_index("ix_prediction_scores_run_id_subject_id", "prediction_scores", ["run_id", "subject_id"],
                    unique=True)


def downgrade():
    op.drop_table("prediction_scores")
    op.drop_table("prediction_runs")
