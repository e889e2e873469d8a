"""Exhibitor portal: the profile in both languages, logos, product pictures.

company_profiles: a company's Chinese name and description and its logo (the key of its files under
INSTANCE_DIR/media). product_pictures: a product's pictures in order.

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "company_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("logo_key", sa.String(length=32), nullable=True),
        sa.Column("logo_width", sa.Integer(), nullable=True),
        sa.Column("logo_height", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("logo_key IS NULL OR length(logo_key) = 32",
                           name=op.f("ck_company_profiles_logo_key_length")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_company_profiles_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name=op.f("fk_company_profiles_company_id_companies")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_company_profiles_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_profiles")),
        sa.UniqueConstraint("company_id", name=op.f("uq_company_profiles_company_id")),
    )
    with op.batch_alter_table("company_profiles") as batch:
        batch.create_index(batch.f("ix_company_profiles_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_company_profiles_updated_by_id"), ["updated_by_id"], unique=False)

    op.create_table(
        "product_pictures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(key) = 32", name=op.f("ck_product_pictures_key_length")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_product_pictures_position_not_negative")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_product_pictures_has_a_size")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_product_pictures_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE",
                                name=op.f("fk_product_pictures_product_id_products")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_product_pictures_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_pictures")),
        sa.UniqueConstraint("key", name=op.f("uq_product_pictures_key")),
    )
    with op.batch_alter_table("product_pictures") as batch:
        batch.create_index(batch.f("ix_product_pictures_organizer_id"), ["organizer_id"], unique=False)
        batch.create_index(batch.f("ix_product_pictures_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index("ix_product_pictures_product_id_position", ["product_id", "position"], unique=False)


def downgrade():
    op.drop_table("product_pictures")
    op.drop_table("company_profiles")
