"""The demo's manual part (issue 8): the live edition's exhibitor manual — a few sections and four forms (two
past their deadline, two still open), answered by most exhibitors, late for some; reminders on record. (The
demo's staff badges are on-site's: expo/onsite/staff_badge_demo.py, floor 5.)"""
from __future__ import annotations

from datetime import timedelta

from ..core.db import insert_unless_exists
from . import manual
from .manual_models import ManualReminder

SECTIONS = (
    ("Move-in and move-out 布展与撤展",
     "Move-in: the two days before opening, 8:00–20:00. Trucks unload at gate 3 with a vehicle pass.\n"
     "Move-out starts after closing on the last day; nothing leaves the hall before 17:00.\n"
     "布展时间：开幕前两天 8:00–20:00，货车凭车证由3号门卸货。"),
    ("Safety rules 安全规定",
     "Stand builders need a safety certificate. No open flames, no helium balloons.\n"
     "特装展位须提交安全承诺书，馆内禁止明火。"),
    ("Contacts 联系方式",
     "Exhibitor services desk: hall 1 entrance, +86 755 0000 0000, service@example.com."),
)
# (title, days from today to the deadline, mandatory, remind days, fields)
FORMS = (
    ("Fascia name 楣板名称", -6, True, 7,
     [{"label": "Fascia text (as printed)", "type": "text", "required": True},
      {"label": "Language", "type": "choice", "choices": "English\nChinese\nBoth", "required": True}]),
    ("Catalogue entry 会刊信息", -2, True, 10,
     [{"label": "Company description (max. 80 words)", "type": "text", "required": True},
      {"label": "Main product category", "type": "text"}]),
    ("Power order 电力申请", 5, True, 7,
     [{"label": "Power", "type": "choice", "choices": "3 kW\n6 kW\n10 kW\n15 kW", "required": True},
      {"label": "Sockets", "type": "number"},
      {"label": "24-hour power", "type": "yes_no"}]),
    ("Stand cleaning 展位清洁", 14, False, 5,
     [{"label": "Nightly cleaning", "type": "yes_no", "required": True},
      {"label": "Notes", "type": "text"}]),
)


def contribute(world) -> None:
    rng, scope, live = world.rng, world.scope, world.live
    actor = world.user_ids.get("manager") or world.user_ids.get("owner")
    for title, body in SECTIONS:
        manual.add_section(scope, live, title, body, actor_id=actor)
    exhibitors = list(world.exhibitors.get(live.id, []))
    if not exhibitors:
        return
    demo_exhibitor = exhibitors[0]
    for n, (title, days, mandatory, remind, fields) in enumerate(FORMS):
        deadline = world.today + timedelta(days=days)
        form = manual.create_form(scope, live, manual.FormData(title, deadline, mandatory=mandatory,
                                                               remind_days=remind), fields=fields, actor_id=actor)
        opened = world.now - timedelta(days=30)
        share = (0.85, 0.7, 0.45, 0.3)[n]
        for exhibitor in exhibitors:
            # The demo exhibitor: fascia sent, catalogue late, power and cleaning still to do.
            sends = n == 0 if exhibitor.id == demo_exhibitor.id else rng.random() < share
            if sends:
                moment = opened + timedelta(seconds=rng.randint(0, int(
                    (min(world.now, manual.deadline_moment(form, live)) - opened).total_seconds()) - 60))
                answers = {}
                for spec in form.fields:
                    if spec["type"] == "choice":
                        answers[spec["key"]] = rng.choice(spec["choices"])
                    elif spec["type"] == "yes_no":
                        answers[spec["key"]] = rng.choice(("yes", "no"))
                    elif spec["type"] == "number":
                        answers[spec["key"]] = str(rng.randint(1, 8))
                    else:
                        answers[spec["key"]] = exhibitor.company.name.upper()[:60]
                manual.submit(form, exhibitor, answers, now=moment)
            elif days - remind <= 0:  # the reminder day has come: the reminder went out
                insert_unless_exists(ManualReminder, {
                    "organizer_id": scope.organizer_id, "form_id": form.id, "exhibitor_id": exhibitor.id,
                    "recipients": 1, "sent_at": manual.deadline_moment(form, live) - timedelta(days=remind)},
                    None, ManualReminder.id)
