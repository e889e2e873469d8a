"""Support (floor 4): tickets (complaints, suggestions, requests) with SLA deadlines, owners and escalation; and
call-backs (回访) to key exhibitors and buyers with scripted questions."""
from ..core.registry import Module

# Each part declares what it plugs in; MODULE joins them (tuples joined, dicts merged).
PARTS = {
    # --- tickets: complaints, suggestions, requests; SLA, escalation, resolution, satisfaction, SLA report ---
    "tickets": __import__("expo.support.ticket_part", fromlist=["PART"]).PART,  # declared in ticket_part.py
    # --- call-backs: call lists, scripted questions, calls recorded as activities, who was not reached ---
    "callbacks": __import__("expo.support.callback_part", fromlist=["PART"]).PART,  # declared in callback_part.py
}


def _merged(key: str):
    if key == "hooks":
        merged: dict = {}
        for part in PARTS.values():
            for name, path in part[key].items():
                merged[name] = merged.get(name, ()) + ((path,) if isinstance(path, str) else tuple(path))
        return merged
    if isinstance(next(iter(PARTS.values()))[key], dict):
        return {k: v for part in PARTS.values() for k, v in part[key].items()}
    return tuple(item for part in PARTS.values() for item in part[key])


MODULE = Module(
    name="support",
    demo="expo.support.demo:contribute",
    models="expo.support.models",
    blueprints=_merged("blueprints"),
    permissions=_merged("permissions"),
    machines=_merged("machines"),
    nav=_merged("nav"),
    tasks=_merged("tasks"),
    beat=_merged("beat"),
    hooks=_merged("hooks"),
    audit_actions=_merged("audit_actions"),
    audit_fields=_merged("audit_fields"),
    audit_objects=_merged("audit_objects"),
    activity_kinds=_merged("activity_kinds"),
)
