"""Visitors (floor 2): persons, registrations, public registration, badges, what an exhibitor may see."""
from flask_babel import lazy_gettext as _l

from ..core.registry import Module, NavEntry, Permission

VIEW_REGISTRATIONS = "view_registrations"
MANAGE_REGISTRATIONS = "manage_registrations"  # reissue and print badges, cancel
EXPORT_REGISTRATIONS = "export_registrations"  # the filtered list as XLSX/CSV (personal data: audited)
MANAGE_PERSONAL_DATA = "manage_personal_data"  # hand a visitor their data, erase it (as the visitor can)

MODULE = Module(
    name="visitors",
    demo="expo.visitors.demo:contribute",
    blueprints=("expo.visitors.views:bp",),
    models="expo.visitors.models",
    permissions=(
        Permission(VIEW_REGISTRATIONS, _l("See registrations"), ("owner", "manager", "onsite")),
        Permission(MANAGE_REGISTRATIONS, _l("Cancel registrations, reissue and print badges"),
                   ("owner", "manager", "onsite")),
        Permission(EXPORT_REGISTRATIONS, _l("Export registrations"), ("owner", "manager")),
        Permission(MANAGE_PERSONAL_DATA, _l("Download and erase a visitor's personal data"), ("owner", "manager")),
    ),
    machines=("expo.visitors.models:VISITOR_CATEGORY", "expo.visitors.models:REGISTRATION_STATUS",
              "expo.visitors.models:REGISTRATION_SOURCE"),
    nav=(NavEntry("visitors.registrations", _l("Registrations"), "edition", VIEW_REGISTRATIONS, icon="people",
                  order=20),
         NavEntry("visitors.duplicates", _l("Possible duplicates"), "organizer", MANAGE_REGISTRATIONS,
                  icon="people", order=60)),
    tasks=("expo.visitors.tasks", "expo.visitors.privacy_tasks"),
    # Editions whose retention period is over are shredded within the hour (the task is idempotent).
    beat={"shred-due-personal-data": {"task": "expo.visitors.privacy_tasks.shred_due_personal_data",
                                      "schedule": 3600.0}},
    hooks={"front_door": "expo.visitors.views:front_door", "public_page_url": "expo.visitors.views:public_page_url"},
    audit_actions={
        "registration.created": _l("Registration created"), "registration.status": _l("Registration status changed"),
        "badge.reissued": _l("Badge reissued"), "badge.printed": _l("Badge printed"),
        "registration.link_mailed": _l("Registration link mailed again"),
        "registrations.exported": _l("Registrations exported"), "person.merged": _l("Visitors merged"),
        "person.distinct": _l("Visitors marked as different people"), "person.updated": _l("Visitor details changed"),
        "person.erased": _l("Visitor's personal data erased"),
        "registration.sharing": _l("Sharing with exhibitors given or withdrawn"),
        "edition.shredded": _l("Edition's personal data shredded (retention)"),
        "person.data_downloaded": _l("Visitor's personal data downloaded by staff"),
    },
    audit_fields={
        "person_id": _l("Person"), "registration_id": _l("Registration"), "source": _l("Source"),
        "consent_version": _l("Consent version"), "serial": _l("Badge serial"), "company": _l("Company"),
        "category": _l("Category"), "checked_in": _l("Checked in"), "merged_person_id": _l("Merged person"),
        "other_person_id": _l("Other person"), "registration_ids": _l("Registrations"),
        "merged_name": _l("Merged name"), "merged_email": _l("Merged email"), "merged_phone": _l("Merged phone"),
        "merged_company": _l("Merged company"), "job_title": _l("Job title"),
        "by": _l("Requested by"), "shared": _l("Shared with exhibitors"), "registrations": _l("Registrations"),
        "persons": _l("Visitors"),
    },
    audit_objects={"registrations": _l("Registration"), "persons": _l("Person")},
)
