"""What the call-backs part plugs into the support module (joined into MODULE by expo/support/__init__.py)."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, NavEntry, Permission

PART = dict(
    blueprints=("expo.support.callback_views:bp",),
    permissions=(
        Permission("view_callbacks", _l("See call-back lists and their report"),
                   ("owner", "manager", "sales", "onsite", "analyst")),
        Permission("manage_callbacks", _l("Make call-back lists, their scripts, and assign callers"),
                   ("owner", "manager")),
        Permission("make_calls", _l("Make call-backs"), ("owner", "manager", "sales", "onsite")),
    ),
    machines=("expo.support.callback_models:CALL_AUDIENCE", "expo.support.callback_models:QUESTION_KIND",
              "expo.support.callback_models:CALL_OUTCOME", "expo.support.callback_models:TARGET_STATUS"),
    nav=(NavEntry("callbacks.index", _l("Call-backs"), "edition", "view_callbacks", icon="telephone-outbound",
                  order=56),),
    tasks=(), beat={},
    hooks={"personal_data": "expo.support.callbacks:visitor_calls",
           "erase_personal_data": "expo.support.callbacks:forget_visitor"},
    audit_actions={"callback.list_created": _l("Call list made"), "callback.customers_added": _l("Customers added to a call list"),
                   "callback.customer_removed": _l("Customer taken off a call list"),
                   "callback.question_added": _l("Call script question added"),
                   "callback.question_removed": _l("Call script question removed"),
                   "callback.assigned": _l("Call list split between callers"),
                   "callback.called": _l("Call-back recorded"),
                   "callback.exported": _l("Not-reached customers exported")},
    audit_fields={"outcome": _l("Outcome"), "attempt": _l("Attempt"), "callers": _l("Callers"),
                  "customers": _l("Customers"), "audience": _l("Audience")},
    audit_objects={"call_lists": _l("Call list"), "calls": _l("Call")},
    activity_kinds={
        "callback.reached": ActivityKind(_l("Call-back (%(list)s): reached. %(note)s"), "telephone-inbound",
                                         "success"),
        "callback.no_answer": ActivityKind(_l("Call-back (%(list)s): no answer (attempt %(attempt)s)"),
                                           "telephone-x", "warning"),
        "callback.call_back": ActivityKind(_l("Call-back (%(list)s): asked to be called back at %(when)s"),
                                           "clock", "info"),
        "callback.wrong_number": ActivityKind(_l("Call-back (%(list)s): wrong number"), "telephone-minus",
                                              "danger"),
        "callback.refused": ActivityKind(_l("Call-back (%(list)s): refused. %(note)s"), "hand-thumbs-down",
                                         "secondary"),
    },
)
