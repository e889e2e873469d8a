"""Roles and the permissions they carry. Views check permissions, never role names."""
from .models import EXHIBITOR_ROLES, ORGANIZER_ROLES

MANAGE_SHOWS = "manage_shows"
MANAGE_EXHIBITORS = "manage_exhibitors"
VIEW_REGISTRATIONS = "view_registrations"
MANAGE_REGISTRATIONS = "manage_registrations"  # reissue and print badges, cancel
CHECK_IN = "check_in"
VIEW_REPORTS = "view_reports"
VIEW_AUDIT = "view_audit"
VIEW_OUTBOX = "view_outbox"
EDIT_COMPANY = "edit_company"
MANAGE_STAFF = "manage_staff"
SCAN_LEADS = "scan_leads"
VIEW_ALL_LEADS = "view_all_leads"  # every lead of the exhibitor, not only one's own captures
EXPORT_LEADS = "export_leads"

ROLE_PERMISSIONS = {
    "owner": {MANAGE_SHOWS, MANAGE_EXHIBITORS, VIEW_REGISTRATIONS, MANAGE_REGISTRATIONS, CHECK_IN, VIEW_REPORTS, VIEW_AUDIT, VIEW_OUTBOX},
    "manager": {MANAGE_SHOWS, MANAGE_EXHIBITORS, VIEW_REGISTRATIONS, MANAGE_REGISTRATIONS, CHECK_IN, VIEW_REPORTS, VIEW_OUTBOX},
    "sales": {MANAGE_EXHIBITORS, VIEW_REPORTS},
    "onsite": {CHECK_IN, VIEW_REGISTRATIONS, MANAGE_REGISTRATIONS},
    "analyst": {VIEW_REPORTS},
    "exhibitor_admin": {EDIT_COMPANY, MANAGE_STAFF, SCAN_LEADS, VIEW_ALL_LEADS, EXPORT_LEADS},
    "booth_staff": {SCAN_LEADS},
}
assert set(ROLE_PERMISSIONS) == set(ORGANIZER_ROLES + EXHIBITOR_ROLES)


def has_permission(user, permission: str) -> bool:
    return bool(user and user.is_authenticated and permission in ROLE_PERMISSIONS.get(user.role, ()))
