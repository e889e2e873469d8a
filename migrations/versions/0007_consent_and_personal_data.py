"""Consent versions, sharing withdrawal, erasure and retention of personal data (issue 6).

An edition's consent text gets a history (consent_versions: number, text, the text on sharing with
exhibitors, when and by whom); a registration points at the exact version its visitor agreed to. Sharing
contact details with exhibitors is a consent of its own, with its time and version, and can be withdrawn.
Persons and registrations remember when their personal data was erased; an edition has a retention period.

Existing editions get their current text as a version (its number: the edition's consent_version, 1 unless
edited); existing registrations point at the version of their number (a version older than the current
one, whose text was not kept, gets a row saying so); sharing, where given, dates from the consent.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_SHARING = ("Exhibitors whose staff scan my badge at their booth receive my name, company, job title, country, "
                   "email and phone, to follow up on my visit. I can withdraw this at any time from my registration "
                   "page.")
LOST_TEXT = "(The text of this version was not kept: it was replaced before consent versions were recorded.)"


def _version_number(text) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def upgrade():
    op.create_table(
        "consent_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sharing_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_consent_versions_positive_version")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_consent_versions_created_by_id_users")),
        sa.ForeignKeyConstraint(["edition_id"], ["editions.id"], name=op.f("fk_consent_versions_edition_id_editions")),
        sa.ForeignKeyConstraint(["organizer_id"], ["organizers.id"],
                                name=op.f("fk_consent_versions_organizer_id_organizers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_versions")),
        sa.UniqueConstraint("edition_id", "version", name=op.f("uq_consent_versions_edition_id_version")),
    )
    with op.batch_alter_table("consent_versions") as batch:
        batch.create_index(batch.f("ix_consent_versions_created_by_id"), ["created_by_id"], unique=False)
        batch.create_index(batch.f("ix_consent_versions_organizer_id"), ["organizer_id"], unique=False)

    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("sharing_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("retention_months", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shredded_at", sa.DateTime(), nullable=True))
        batch.create_check_constraint(op.f("ck_editions_valid_retention_months"),
                                      "retention_months IS NULL OR retention_months BETWEEN 0 AND 1200")

    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("consent_version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sharing_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sharing_version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sharing_withdrawn_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_registrations_consent_version_id_consent_versions"), "consent_versions",
                                 ["consent_version_id"], ["id"])
        batch.create_foreign_key(op.f("fk_registrations_sharing_version_id_consent_versions"), "consent_versions",
                                 ["sharing_version_id"], ["id"])
        batch.create_index(batch.f("ix_registrations_consent_version_id"), ["consent_version_id"], unique=False)
        batch.create_index(batch.f("ix_registrations_sharing_version_id"), ["sharing_version_id"], unique=False)

    _versions_for_existing_data()

    with op.batch_alter_table("registrations") as batch:
        batch.create_check_constraint(op.f("ck_registrations_sharing_has_its_time"),
                                      "NOT share_with_exhibitors OR sharing_at IS NOT NULL")


def _versions_for_existing_data():
    conn = op.get_bind()
    editions = sa.table("editions", sa.column("id", sa.Integer), sa.column("organizer_id", sa.Integer),
                        sa.column("consent_text", sa.Text), sa.column("consent_version", sa.String),
                        sa.column("sharing_text", sa.Text), sa.column("created_at", sa.DateTime))
    versions = sa.table("consent_versions", sa.column("id", sa.Integer), sa.column("organizer_id", sa.Integer),
                        sa.column("edition_id", sa.Integer), sa.column("version", sa.Integer),
                        sa.column("text", sa.Text), sa.column("sharing_text", sa.Text),
                        sa.column("created_at", sa.DateTime))
    registrations = sa.table("registrations", sa.column("id", sa.Integer), sa.column("edition_id", sa.Integer),
                             sa.column("consent_version", sa.String), sa.column("consent_at", sa.DateTime),
                             sa.column("created_at", sa.DateTime), sa.column("share_with_exhibitors", sa.Boolean),
                             sa.column("consent_version_id", sa.Integer), sa.column("sharing_at", sa.DateTime),
                             sa.column("sharing_version_id", sa.Integer))
    conn.execute(editions.update().values(sharing_text=DEFAULT_SHARING))
    for edition in conn.execute(sa.select(editions)).all():
        current = _version_number(edition.consent_version)
        numbers = {current} | {_version_number(v) for v in conn.execute(
            sa.select(registrations.c.consent_version).where(registrations.c.edition_id == edition.id).distinct())
            .scalars()}
        for number in sorted(numbers):
            conn.execute(versions.insert().values(
                organizer_id=edition.organizer_id, edition_id=edition.id, version=number,
                text=edition.consent_text if number == current else LOST_TEXT, sharing_text=DEFAULT_SHARING,
                created_at=edition.created_at))
            version_id = conn.execute(sa.select(versions.c.id).where(versions.c.edition_id == edition.id,
                                                                     versions.c.version == number)).scalar_one()
            matching = registrations.c.edition_id == edition.id
            if number == current:  # registrations without a number agreed to the text of their time: the current
                matching &= sa.or_(registrations.c.consent_version.is_(None),
                                   registrations.c.consent_version.not_in([str(n) for n in numbers - {current}]))
            else:
                matching &= registrations.c.consent_version == str(number)
            conn.execute(registrations.update().where(matching).values(consent_version_id=version_id))
    conn.execute(registrations.update().where(registrations.c.share_with_exhibitors == sa.true()).values(
        sharing_at=sa.func.coalesce(registrations.c.consent_at, registrations.c.created_at),
        sharing_version_id=registrations.c.consent_version_id))


def downgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.drop_constraint(op.f("ck_registrations_sharing_has_its_time"), type_="check")
        batch.drop_index(batch.f("ix_registrations_sharing_version_id"))
        batch.drop_index(batch.f("ix_registrations_consent_version_id"))
        batch.drop_constraint(op.f("fk_registrations_sharing_version_id_consent_versions"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_registrations_consent_version_id_consent_versions"), type_="foreignkey")
        batch.drop_column("erased_at")
        batch.drop_column("sharing_withdrawn_at")
        batch.drop_column("sharing_version_id")
        batch.drop_column("sharing_at")
        batch.drop_column("consent_version_id")

    with op.batch_alter_table("persons") as batch:
        batch.drop_column("erased_at")

    with op.batch_alter_table("editions") as batch:
        batch.drop_constraint(op.f("ck_editions_valid_retention_months"), type_="check")
        batch.drop_column("shredded_at")
        batch.drop_column("retention_months")
        batch.drop_column("sharing_text")

    with op.batch_alter_table("consent_versions") as batch:
        batch.drop_index(batch.f("ix_consent_versions_organizer_id"))
        batch.drop_index(batch.f("ix_consent_versions_created_by_id"))
    op.drop_table("consent_versions")
