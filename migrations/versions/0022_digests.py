"""Supply-and-demand digests (campaigns).

campaigns.kind: "mailing" (a written mail to a segment) or a digest, built for each recipient from the data:
"digest_visitors" (core visitors: new exhibitors and products in their categories, their top recommendations)
or "digest_exhibitors" (core exhibitors' admins: buyers interested in their categories, visitors to invite).
campaigns.digest: the digest's settings (who is "core", the period, how many recommendations, repetition).
campaign_recipients.user_id: an exhibitor digest mails exhibitor staff accounts, not persons: a recipient is a
person or a user, never both, each at most once per campaign.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="mailing"))
        batch.add_column(sa.Column("digest", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_campaigns_valid_kind"), "kind IN ('mailing', 'digest_visitors', 'digest_exhibitors')")
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("kind", server_default=None)
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key(batch.f("fk_campaign_recipients_user_id_users"), "users", ["user_id"], ["id"])
        batch.create_index(batch.f("ix_campaign_recipients_user_id"), ["user_id"], unique=False)
        batch.create_unique_constraint(batch.f("uq_campaign_recipients_campaign_id_user_id"), ["campaign_id", "user_id"])
        batch.create_check_constraint(op.f("ck_campaign_recipients_person_or_user"), "(person_id IS NULL) <> (user_id IS NULL)")


def downgrade():
    op.execute("DELETE FROM campaign_recipients WHERE person_id IS NULL")
    op.execute("DELETE FROM campaigns WHERE kind <> 'mailing'")
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_constraint(op.f("ck_campaign_recipients_person_or_user"), type_="check")
        batch.drop_constraint(batch.f("uq_campaign_recipients_campaign_id_user_id"), type_="unique")
        batch.drop_index(batch.f("ix_campaign_recipients_user_id"))
        batch.drop_constraint(batch.f("fk_campaign_recipients_user_id_users"), type_="foreignkey")
        batch.drop_column("user_id")
        batch.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("ck_campaigns_valid_kind"), type_="check")
        batch.drop_column("digest")
        batch.drop_column("kind")
