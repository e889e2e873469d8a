"""Booth sales: contacts, sales activities, contracts and payments.

company_contacts: the people the sales team deals with at a company (at most one main contact per company: a
partial unique index). sales_activities: calls, visits, mails and notes logged with a company, dated, by whom.
contracts: a booth contract of an exhibitor (number unique at the organizer, amount). payments: money received
against a contract (amount, date, method).

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

KINDS = "kind IN ('call', 'visit', 'mail', 'note')"
METHODS = "method IN ('transfer', 'card', 'cash', 'cheque', 'other')"


def upgrade():
    op.create_table(
        "company_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("is_main", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("name <> ''", name=op.f("ck_company_contacts_has_a_name")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_company_contacts_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_company_contacts_company_id_companies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_contacts")),
    )
    with op.batch_alter_table("company_contacts") as batch:
        batch.create_index(batch.f("ix_company_contacts_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_company_contacts_company_id"), ["company_id"], unique=False)
        batch.create_index("uq_company_contacts_company_id_main", ["company_id"], unique=True,
                           sqlite_where=sa.text("is_main"), postgresql_where=sa.text("is_main"))

    op.create_table(
        "sales_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_sales_activities_valid_kind")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_sales_activities_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_activities_company_id_companies")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], ondelete="SET NULL",
                                name=op.f("fk_sales_activities_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["contact_id"], ["company_contacts.id"], ondelete="SET NULL",
                                name=op.f("fk_sales_activities_contact_id_company_contacts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sales_activities_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_activities")),
    )
    with op.batch_alter_table("sales_activities") as batch:
        batch.create_index(batch.f("ix_sales_activities_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_sales_activities_company_id"), ["company_id"], unique=False)
        batch.create_index(batch.f("ix_sales_activities_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_sales_activities_contact_id"), ["contact_id"], unique=False)
        batch.create_index(batch.f("ix_sales_activities_user_id"), ["user_id"], unique=False)
        batch.create_index("ix_sales_activities_company_id_happened_on", ["company_id", "happened_on"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("exhibitor_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_contracts_amount_not_negative")),
        sa.CheckConstraint("number <> ''", name=op.f("ck_contracts_has_a_number")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_contracts_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["exhibitor_id"], ["exhibitors.id"], ondelete="CASCADE",
                                name=op.f("fk_contracts_exhibitor_id_exhibitors")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_contracts_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("organizer_id", "number", name=op.f("uq_contracts_organizer_id_number")),
    )
    with op.batch_alter_table("contracts") as batch:
        batch.create_index(batch.f("ix_contracts_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_contracts_exhibitor_id"), ["exhibitor_id"], unique=False)
        batch.create_index(batch.f("ix_contracts_created_by_id"), ["created_by_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(METHODS, name=op.f("ck_payments_valid_method")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_payments_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], ondelete="CASCADE",
                                name=op.f("fk_payments_contract_id_contracts")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_payments_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments") as batch:
        batch.create_index(batch.f("ix_payments_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_payments_contract_id"), ["contract_id"], unique=False)
        batch.create_index(batch.f("ix_payments_created_by_id"), ["created_by_id"], unique=False)


def downgrade():
    op.drop_table("payments")
    op.drop_table("contracts")
    op.drop_table("sales_activities")
    op.drop_table("company_contacts")
