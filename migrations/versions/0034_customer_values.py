"""Value-tier weights and what the lifecycle, RFM and tier pages need (expo.postshow).

customer_value_settings: one row per organizer with the weights of the net-value score for companies and for
persons (JSON: feature -> weight 0–100) and the tier shares (VIP, important, general; low is the rest).

Revision ID: 0034
Revises: 0033
"""
import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_value_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_weights", sa.JSON(), nullable=False),
        sa.Column("person_weights", sa.JSON(), nullable=False),
        sa.Column("vip_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("important_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("general_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("vip_percent > 0 AND important_percent >= 0 AND general_percent >= 0 AND "
                           "vip_percent + important_percent + general_percent <= 100",
                           name=op.f("ck_customer_value_settings_shares_in_range")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_customer_value_settings_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_customer_value_settings_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_value_settings")),
        sa.UniqueConstraint("organizer_id", name=op.f("uq_customer_value_settings_organizer_id")),
    )
    with op.batch_alter_table("customer_value_settings") as batch:
        batch.create_index(batch.f("ix_customer_value_settings_updated_by_id"), ["updated_by_id"], unique=False)


def downgrade():
    op.drop_table("customer_value_settings")
