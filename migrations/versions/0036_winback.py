"""Win-back and survey-invitation campaigns and their measured effect (expo.campaigns).

campaigns.kind: also "winback" (a selection of the churn watch list) and "survey" (each recipient's own survey
link, one reminder). campaigns.target_edition_id: the edition a win-back's effect is measured at;
campaigns.settings: the win-back's selection / holdout / rest of the watch list, or the survey and the reminder
delay; campaigns.reminder_sent_at: the one reminder, claimed once.
campaign_recipients.contact_id: a company's main contact (win-back to exhibitors); company_id: the company a
recipient stands for; reminded_at: when the survey reminder went. A recipient is a person, a user or a contact.

Revision ID: 0036
Revises: 0035
"""
import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('mailing', 'digest_visitors', 'digest_exhibitors')"
NEW_KINDS = "kind IN ('mailing', 'digest_visitors', 'digest_exhibitors', 'winback', 'survey')"
OLD_ADDRESSEE = "(person_id IS NULL) <> (user_id IS NULL)"
ONE_ADDRESSEE = ("(CASE WHEN person_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
                 " + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) = 1")


def upgrade():
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("ck_campaigns_valid_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_campaigns_valid_kind"), NEW_KINDS)
        batch.add_column(sa.Column("target_edition_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reminder_sent_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(batch.f("fk_campaigns_target_edition_id_editions"), "editions",
                                 ["target_edition_id"], ["id"])
        batch.create_index(batch.f("ix_campaigns_target_edition_id"), ["target_edition_id"], unique=False)

    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_constraint(op.f("ck_campaign_recipients_person_or_user"), type_="check")
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(batch.f("fk_campaign_recipients_contact_id_company_contacts"), "company_contacts",
                                 ["contact_id"], ["id"])
        batch.create_foreign_key(batch.f("fk_campaign_recipients_company_id_companies"), "companies",
                                 ["company_id"], ["id"])
        batch.create_index(batch.f("ix_campaign_recipients_contact_id"), ["contact_id"], unique=False)
        batch.create_index(batch.f("ix_campaign_recipients_company_id"), ["company_id"], unique=False)
        batch.create_unique_constraint(batch.f("uq_campaign_recipients_campaign_id_contact_id"),
                                       ["campaign_id", "contact_id"])
        batch.create_check_constraint(op.f("ck_campaign_recipients_one_addressee"), ONE_ADDRESSEE)


def downgrade():
    op.execute("DELETE FROM campaign_recipients WHERE contact_id IS NOT NULL")
    op.execute("DELETE FROM campaign_recipients WHERE campaign_id IN "
               "(SELECT id FROM campaigns WHERE kind IN ('winback', 'survey'))")
    op.execute("UPDATE registrations SET campaign_id = NULL WHERE campaign_id IN "
               "(SELECT id FROM campaigns WHERE kind IN ('winback', 'survey'))")
    op.execute("DELETE FROM campaigns WHERE kind IN ('winback', 'survey')")
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_constraint(op.f("ck_campaign_recipients_one_addressee"), type_="check")
        batch.drop_constraint(batch.f("uq_campaign_recipients_campaign_id_contact_id"), type_="unique")
        batch.drop_index(batch.f("ix_campaign_recipients_company_id"))
        batch.drop_index(batch.f("ix_campaign_recipients_contact_id"))
        batch.drop_constraint(batch.f("fk_campaign_recipients_company_id_companies"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_campaign_recipients_contact_id_company_contacts"), type_="foreignkey")
        batch.drop_column("reminded_at")
        batch.drop_column("company_id")
        batch.drop_column("contact_id")
        batch.create_check_constraint(op.f("ck_campaign_recipients_person_or_user"), OLD_ADDRESSEE)

    with op.batch_alter_table("campaigns") as batch:
        batch.drop_index(batch.f("ix_campaigns_target_edition_id"))
        batch.drop_constraint(batch.f("fk_campaigns_target_edition_id_editions"), type_="foreignkey")
        batch.drop_column("reminder_sent_at")
        batch.drop_column("settings")
        batch.drop_column("target_edition_id")
        batch.drop_constraint(op.f("ck_campaigns_valid_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_campaigns_valid_kind"), OLD_KINDS)
