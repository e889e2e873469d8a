"""One admission per registration and show day, enforced by the database: admitted check-ins carry their
show day (in the edition's zone) under a partial unique index.

Revision ID: 0004
Revises: 0003
"""
from datetime import timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("admitted_on", sa.Date(), nullable=True))
    # Earlier admissions get their day; where a race once admitted a badge twice, the first one keeps it.
    scans = sa.table("scans", sa.column("id", sa.Integer), sa.column("registration_id", sa.Integer),
                     sa.column("edition_id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("result", sa.String), sa.column("scanned_at", sa.DateTime),
                     sa.column("admitted_on", sa.Date))
    editions = sa.table("editions", sa.column("id", sa.Integer), sa.column("timezone", sa.String))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(scans.c.id, scans.c.registration_id, scans.c.scanned_at, editions.c.timezone)
        .join(editions, editions.c.id == scans.c.edition_id)
        .where(scans.c.kind == "checkin", scans.c.result == "ok", scans.c.registration_id.is_not(None))
        .order_by(scans.c.scanned_at, scans.c.id)).all()
    seen = set()
    for scan_id, registration_id, scanned_at, zone in rows:
        day = scanned_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone or "UTC")).date()
        if (registration_id, day) in seen:
            continue
        seen.add((registration_id, day))
        connection.execute(sa.update(scans).where(scans.c.id == scan_id).values(admitted_on=day))
    with op.batch_alter_table("scans") as batch:
        batch.create_index("uq_scans_registration_id_admitted_on", ["registration_id", "admitted_on"], unique=True,
                           sqlite_where=sa.text("admitted_on IS NOT NULL"),
                           postgresql_where=sa.text("admitted_on IS NOT NULL"))
        batch.create_check_constraint("admission_is_ok_checkin",
                                      "admitted_on IS NULL OR (kind = 'checkin' AND result = 'ok')")


def downgrade():
    with op.batch_alter_table("scans") as batch:
        batch.drop_constraint(op.f("ck_scans_admission_is_ok_checkin"), type_="check")
        batch.drop_index("uq_scans_registration_id_admitted_on")
        batch.drop_column("admitted_on")
