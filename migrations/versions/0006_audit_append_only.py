"""The audit log is append-only in the database (issue 6): triggers refuse UPDATE and DELETE of an entry
(and TRUNCATE on PostgreSQL); an index on the entry's object for "the history of this record".

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

from expo.core import append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_entries_object", "audit_entries", ["object_type", "object_id"])
    for sql in append_only.statements(op.get_bind().dialect.name):
        op.execute(sql)


def downgrade():
    for sql in append_only.statements(op.get_bind().dialect.name, drop=True):
        op.execute(sql)
    op.drop_index("ix_audit_entries_object", table_name="audit_entries")
