"""A furniture fair on fixed data for the campaign tests: three editions of one show, a category tree,
and visitors each chosen to pass or fail one filter of "last edition's buyers interested in office chairs
who have not registered yet for this edition"."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from expo.campaigns import services
from expo.campaigns.segments import Segment
from expo.core import services as core
from expo.core.scoping import Scope
from expo.extensions import db
from expo.onsite import services as onsite
from expo.visitors import services as visitors


@dataclass
class Fair:
    organizer: object
    show: object
    older: object  # two years ago
    previous: object  # last edition (live now: its check-ins are real scans)
    target: object  # the edition invited to (registration open, next year)
    categories: dict
    people: dict = field(default_factory=dict)  # short name -> Person
    owner: object = None
    onsite_user: object = None

    def ids(self, *names) -> set[int]:
        return {self.people[n].id for n in names}


def register(make, edition, who: str, *, category="buyer", interests=(), country="CN", locale="en",
             source="online", email=None):
    data = visitors.RegistrationData(name=who.title() + " 测试", email=email or f"{who}@example.com",
                                     category=category, country=country, consent=True, interest_ids=list(interests),
                                     locale=locale, source=source)
    return visitors.register(edition, data, send_confirmation=False)


@pytest.fixture
def fair(make):
    organizer = make.organizer("Fair Org")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Furniture Fair 家具展")
    older = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=400), name="Fair 2024")
    previous = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=1), name="Fair 2025")
    target = make.edition(organizer, show=show, starts_on=date.today() + timedelta(days=300), name="Fair 2026",
                          status="registration_open")
    office = core.add_category(scope, show, "Office furniture")
    chairs = core.add_category(scope, show, "Office chairs", office)
    ergonomic = core.add_category(scope, show, "Ergonomic chairs", chairs)
    home = core.add_category(scope, show, "Home furniture")
    sofas = core.add_category(scope, show, "Sofas", home)
    f = Fair(organizer, show, older, previous, target,
             {"office": office, "chairs": chairs, "ergonomic": ergonomic, "home": home, "sofas": sofas})
    f.owner = make.user("owner", organizer)
    f.onsite_user = make.user("onsite", organizer)
    c = f.categories
    # IN the office-chair example:
    register(make, older, "alice", interests=[c["chairs"].id], locale="en", country="CN")  # returning
    r = register(make, previous, "alice", interests=[c["chairs"].id], locale="zh_CN")  # her last: Chinese
    f.people["alice"] = r.person
    r = register(make, previous, "bob", interests=[c["ergonomic"].id], country="DE", source="exhibitor_invitation")
    f.people["bob"] = r.person  # a sub-category of office chairs; first-time; invited by an exhibitor
    # OUT, each for one reason:
    r = register(make, previous, "carol", interests=[c["chairs"].id])
    register(make, target, "carol", interests=[c["chairs"].id])  # registered already
    f.people["carol"] = r.person
    f.people["dave"] = register(make, previous, "dave", category="trade_visitor", interests=[c["chairs"].id]).person
    f.people["erin"] = register(make, previous, "erin", interests=[c["sofas"].id], country="HK").person
    f.people["frank"] = register(make, older, "frank", interests=[c["chairs"].id]).person  # not last edition
    f.people["gina"] = register(make, previous, "gina", interests=[c["chairs"].id]).person
    core.unsubscribe(organizer.id, "GINA@example.com ")  # any case, spaces: the same address
    r = register(make, previous, "hank", interests=[c["chairs"].id])
    visitors.cancel_registration(r)
    f.people["hank"] = r.person
    # alice checked in at the previous edition (a real scan at the gate)
    outcome = onsite.record_scan(f.onsite_user, code=visitors.badge_code(
        next(x for x in db.session.scalars(db.select(visitors.Registration).where(
            visitors.Registration.person_id == f.people["alice"].id,
            visitors.Registration.edition_id == previous.id)))),
        kind="checkin", client_scan_id=str(uuid.uuid4()), edition_id=previous.id)
    assert outcome.result == "ok", outcome.reason
    db.session.commit()
    return f


def office_chairs(fair) -> Segment:
    return Segment(attended="previous", categories=["buyer"], interests=[fair.categories["chairs"].id],
                   registered="no")


def draft(fair, segment: Segment, **texts):
    data = services.CampaignData(
        name=texts.pop("name", "Office chairs 2026"), segment=segment,
        subject_en=texts.pop("subject_en", "Come to {name}'s fair"),
        body_en=texts.pop("body_en", "Dear {name},\n\nregister here: {link}\n\nSee you!"),
        subject_zh=texts.pop("subject_zh", "诚邀参观"), body_zh=texts.pop("body_zh", "{name}，您好：\n\n请登记：{link}"))
    return services.create_campaign(Scope(fair.organizer.id), fair.target, data, actor_id=fair.owner.id)
