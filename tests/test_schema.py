"""Invariants of the schema itself (DESIGN.md: the database enforces invariants)."""
import pytest

from expo.extensions import db

# Every module's tables are in the metadata once the app is made (the registry imports their models).
pytestmark = pytest.mark.usefixtures("app")


def _leading_columns(table):
    """Column names that lead an index, a unique constraint or the primary key of the table."""
    leads = set()
    for index in table.indexes:
        leads.add(list(index.columns)[0].name)
    for constraint in table.constraints:
        columns = list(getattr(constraint, "columns", []))
        if columns and constraint.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint"):
            leads.add(columns[0].name)
    return leads


def test_every_foreign_key_is_indexed():
    missing, checked = [], 0
    for table in db.metadata.sorted_tables:
        leading = _leading_columns(table)
        for fk in table.foreign_keys:
            checked += 1
            if fk.parent.name not in leading:
                missing.append(f"{table.name}.{fk.parent.name}")
    assert checked > 30
    assert not missing, f"foreign keys without an index: {missing}"


def test_every_tenant_table_names_its_organizer():
    """Scoping needs organizer_id on every table of tenant data (link tables inherit it from their rows)."""
    global_tables = {"organizers", "api_tokens", "user_sessions", "recovery_codes", "mail_attachments",
                     "exhibitor_categories", "registration_interests", "product_categories"}  # a user's rows belong to the user
    missing = [t.name for t in db.metadata.sorted_tables
               if t.name not in global_tables and "organizer_id" not in t.columns]
    assert not missing
