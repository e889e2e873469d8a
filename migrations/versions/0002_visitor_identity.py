"""visitor identity: details as given on the registration, E.164 phone keys, name keys, merges, distinct pairs

A registration keeps what the visitor typed (name, company, job title, phone) so that a new registration
never rewrites the stored person; persons get a name+company key for the duplicate review, a
``merged_into_id`` for staff merges, and pairs staff judged to be two people are remembered.
Existing phone keys (digits) are recomputed as E.164 with the phonenumbers library (default region CN).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00

"""
import re

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _phone_key(phone, country):
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, (country or "CN").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _name_key(name, company):
    name = re.sub(r"\s+", "", (name or "").casefold())
    company = re.sub(r"\s+", "", (company or "").casefold())
    return f"{name}|{company}"[:402] if name and company else None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_as_given", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("company_as_given", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("job_title_as_given", sa.String(length=200), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("phone_as_given", sa.String(length=40), nullable=False, server_default=""))

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=402), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_persons_merged_into_id_persons"), "persons", ["merged_into_id"], ["id"])
        batch_op.create_check_constraint(op.f("ck_persons_not_merged_into_itself"),
                                         "merged_into_id IS NULL OR merged_into_id <> id")
        batch_op.create_index(batch_op.f("ix_persons_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index("ix_persons_organizer_id_name_key", ["organizer_id", "name_key"], unique=False)

    op.create_table(
        "distinct_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("other_person_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("person_id < other_person_id", name=op.f("ck_distinct_persons_ordered_pair")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_distinct_persons_decided_by_id_users")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_distinct_persons_organizer_id_organizers")),
        sa.ForeignKeyConstraint(["other_person_id"], ["persons.id"],
                                name=op.f("fk_distinct_persons_other_person_id_persons"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_distinct_persons_person_id_persons"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distinct_persons")),
        sa.UniqueConstraint("person_id", "other_person_id", name=op.f("uq_distinct_persons_person_id_other_person_id")),
    )
    with op.batch_alter_table("distinct_persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distinct_persons_decided_by_id"), ["decided_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_persons_organizer_id"), ["organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_persons_other_person_id"), ["other_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_persons_person_id"), ["person_id"], unique=False)

    persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("phone", sa.String),
                       sa.column("country", sa.String), sa.column("name", sa.String), sa.column("company", sa.String),
                       sa.column("phone_key", sa.String), sa.column("name_key", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(persons.c.id, persons.c.phone, persons.c.country, persons.c.name,
                                  persons.c.company)).all()
    for row in rows:
        conn.execute(persons.update().where(persons.c.id == row.id).values(
            phone_key=_phone_key(row.phone, row.country or None), name_key=_name_key(row.name, row.company)))


def downgrade():
    with op.batch_alter_table("distinct_persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distinct_persons_person_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_persons_other_person_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_persons_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_distinct_persons_decided_by_id"))
    op.drop_table("distinct_persons")

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_organizer_id_name_key")
        batch_op.drop_index(batch_op.f("ix_persons_merged_into_id"))
        batch_op.drop_constraint(op.f("ck_persons_not_merged_into_itself"), type_="check")
        batch_op.drop_constraint(op.f("fk_persons_merged_into_id_persons"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("name_key")

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("phone_as_given")
        batch_op.drop_column("job_title_as_given")
        batch_op.drop_column("company_as_given")
        batch_op.drop_column("name_as_given")
