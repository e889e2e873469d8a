"""Exhibitors' products (name, description, categories), used by matchmaking and the public show page.

products: a company's product (persistent across editions, like the company), named and described in English
and/or Chinese; ``deleted_at`` marks a product the exhibitor removed (matchmaking sees the change through
``updated_at``). product_categories: the show categories a product belongs to.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("name_en <> '' OR name_zh <> ''", name=op.f("ck_products_has_a_name")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"], name=op.f("fk_products_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_products_company_id_companies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_products_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products") as batch:
        batch.create_index(batch.f("ix_products_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_products_company_id"), ["company_id"], unique=False)
        batch.create_index(batch.f("ix_products_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_products_organizer_id_updated_at", ["organizer_id", "updated_at"], unique=False)

    op.create_table(
        "product_categories",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_product_categories_product_id_products")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE",
                                name=op.f("fk_product_categories_category_id_categories")),
        sa.PrimaryKeyConstraint("product_id", "category_id", name=op.f("pk_product_categories")),
    )
    with op.batch_alter_table("product_categories") as batch:
        batch.create_index(batch.f("ix_product_categories_category_id"), ["category_id"], unique=False)


def downgrade():
    op.drop_table("product_categories")
    op.drop_table("products")
