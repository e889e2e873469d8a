"""Core (floor 1): organizers, users, roles and permissions, shows, editions, categories, badge codes,
audit log, mail outbox, scoping, authentication, the module registry."""
from flask_babel import lazy_gettext as _l

from .registry import SETUP, ActivityKind, Module, NavEntry, Permission

ORGANIZER_STAFF = ("owner", "manager", "sales", "onsite", "analyst")

MANAGE_SHOWS = "manage_shows"
VIEW_AUDIT = "view_audit"
VIEW_OUTBOX = "view_outbox"
IMPORT_DATA = "import_data"  # run imports (persons, companies, past editions) and keep their mappings

MODULE = Module(
    name="core",
    demo="expo.core.demo:contribute",
    blueprints=("expo.core.views:bp", "expo.core.openapi:bp"),
    models="expo.core.models",
    permissions=(
        Permission(MANAGE_SHOWS, _l("Manage shows, categories and editions"), ("owner", "manager")),
        Permission(VIEW_AUDIT, _l("Read the audit log"), ("owner",)),
        Permission(VIEW_OUTBOX, _l("Read the mail outbox"), ("owner", "manager")),
        Permission(IMPORT_DATA, _l("Import data from files"), ("owner", "manager")),
    ),
    machines=("expo.core.models:USER_ROLE", "expo.core.models:EDITION_STATUS", "expo.core.models:MAIL_STATUS",
              "expo.core.models:JOB_STATUS"),
    nav=(
        NavEntry("core.dashboard", _l("Shows"), "organizer", icon="grid", order=10),
        NavEntry("core.audit_log", _l("Audit log"), "organizer", VIEW_AUDIT, icon="journal-text", order=90),
        NavEntry("core.outbox", _l("Outbox"), "organizer", VIEW_OUTBOX, icon="envelope", order=91),
        NavEntry("core.imports_start", _l("Imports"), "organizer", IMPORT_DATA, icon="upload", order=80),
        NavEntry("core.edition_imports", _l("Imports"), "edition", IMPORT_DATA, icon="upload", order=27, group=SETUP),
        NavEntry("core.edition", _l("Dashboard"), "edition", icon="speedometer2", order=10),
    ),
    tasks=("expo.core.tasks", "expo.core.imports"),
    audit_actions={
        "user.login": _l("Signed in"), "user.logout": _l("Signed out"), "user.login_failed": _l("Failed sign-in"),
        "user.created": _l("User created"), "user.password_changed": _l("Password changed"),
        "user.two_factor_on": _l("Two-factor sign-in switched on"),
        "user.two_factor_off": _l("Two-factor sign-in switched off"),
        "user.recovery_codes_made": _l("Two-factor recovery codes made"),
        "user.recovery_code_used": _l("Two-factor recovery code used"), "api_token.created": _l("API token created"),
        "api_token.revoked": _l("API token revoked"), "edition.status": _l("Edition status changed"),
        "consent.version": _l("Consent text changed"), "edition.retention": _l("Retention period changed"),
        "contact.viewed": _l("Contact details viewed"),
        "job.file_downloaded": _l("Job result downloaded"), "import.started": _l("Import started"),
        "import.finished": _l("Import finished"), "import.mapping_saved": _l("Import mapping saved"),
    },
    audit_fields={
        "email": _l("Email"), "role": _l("Role"), "edition_id": _l("Edition"), "from": _l("From"), "to": _l("To"),
        "rows": _l("Rows"), "format": _l("Format"), "fields": _l("Fields"), "name": _l("Name"),
        "status": _l("Status"), "filters": _l("Filters"), "q": _l("Search"), "changes": _l("Changes"),
        "description": _l("Description"), "country": _l("Country"), "phone": _l("Phone"),
        "page": _l("Page"), "search": _l("Search"),
    },
    audit_objects={"users": _l("User"), "api_tokens": _l("API token"), "editions": _l("Edition"),
                   "mail_messages": _l("Outbox"), "jobs": _l("Background job"),
                   "import_mappings": _l("Import mapping")},
    activity_kinds={"import.row": ActivityKind(_l("Imported from a file (line %(line)s)"), "upload", "secondary")},
)
