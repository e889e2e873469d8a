"""Customer 360: search keys for persons and companies, company merge.

Persons get their name as a pinyin key, plain and turned (family name last), and their company's name
key, each indexed per organizer for the search box; companies get their name key (search, duplicates
review) and ``merged_into_id`` (a company merged into another stays as an alias); pairs staff judged to be two
companies are remembered (distinct_companies). Existing rows get their
keys computed here (core.search: the same functions the app uses).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pinyin_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("pinyin_key_turned", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("company_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_persons_organizer_id_pinyin_key", ["organizer_id", "pinyin_key"], unique=False)
        batch_op.create_index("ix_persons_organizer_id_pinyin_key_turned", ["organizer_id", "pinyin_key_turned"],
                              unique=False)
        batch_op.create_index("ix_persons_organizer_id_company_key", ["organizer_id", "company_key"], unique=False)

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_companies_merged_into_id_companies"), "companies", ["merged_into_id"],
                                    ["id"])
        batch_op.create_check_constraint(op.f("ck_companies_not_merged_into_itself"),
                                         "merged_into_id IS NULL OR merged_into_id <> id")
        batch_op.create_index(batch_op.f("ix_companies_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index("ix_companies_organizer_id_name_key", ["organizer_id", "name_key"], unique=False)

    op.create_table(
        "distinct_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("other_company_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("company_id < other_company_id", name=op.f("ck_distinct_companies_ordered_pair")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_distinct_companies_company_id_companies"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_distinct_companies_decided_by_id_users")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_distinct_companies_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["other_company_id"], ["companies.id"],
                                name=op.f("fk_distinct_companies_other_company_id_companies"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distinct_companies")),
        sa.UniqueConstraint("company_id", "other_company_id",
                            name=op.f("uq_distinct_companies_company_id_other_company_id")),
    )
    with op.batch_alter_table("distinct_companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distinct_companies_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_companies_decided_by_id"), ["decided_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_companies_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_companies_other_company_id"), ["other_company_id"], unique=False)

    _backfill()


def _backfill():
    from expo.core.search import company_key, name_keys

    conn = op.get_bind()
    persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("company", sa.String), sa.column("pinyin_key", sa.String),
                       sa.column("pinyin_key_turned", sa.String), sa.column("company_key", sa.String))
    companies = sa.table("companies", sa.column("id", sa.Integer), sa.column("name", sa.String),
                         sa.column("name_key", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(persons.c.id, persons.c.name, persons.c.company).where(persons.c.id > last)
                            .order_by(persons.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            key, turned = name_keys(row.name)
            conn.execute(persons.update().where(persons.c.id == row.id).values(
                pinyin_key=key, pinyin_key_turned=turned, company_key=company_key(row.company)))
        last = rows[-1].id
    for row in conn.execute(sa.select(companies.c.id, companies.c.name)).all():
        conn.execute(companies.update().where(companies.c.id == row.id).values(name_key=company_key(row.name)))


def downgrade():
    with op.batch_alter_table("distinct_companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distinct_companies_other_company_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_companies_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_companies_decided_by_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_companies_company_id"))
    op.drop_table("distinct_companies")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_organizer_id_name_key")
        batch_op.drop_index(batch_op.f("ix_companies_merged_into_id"))
        batch_op.drop_constraint(op.f("ck_companies_not_merged_into_itself"), type_="check")
        batch_op.drop_constraint(op.f("fk_companies_merged_into_id_companies"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("name_key")

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_organizer_id_company_key")
        batch_op.drop_index("ix_persons_organizer_id_pinyin_key_turned")
        batch_op.drop_index("ix_persons_organizer_id_pinyin_key")
        batch_op.drop_column("company_key")
        batch_op.drop_column("pinyin_key_turned")
        batch_op.drop_column("pinyin_key")
