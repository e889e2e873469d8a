"""The visitors' part of the demo show: people (Chinese and international, some returning from the
previous edition) and their registrations with interests. Pre-registrations fall between the opening
of registration and the first show day; walk-ups register at the venue on a show day that has begun.
Nothing is dated after ``world.now``."""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from ..core.demo import DEMO_DOMAIN, DemoRegistration, DemoWorld, cn_name, company_names, en_name, weighted
from ..core.services import current_consent
from ..extensions import db
from .models import CategorySetting, Person, Registration, RegistrationPolicy, registration_interests
from .persons import name_key, phone_key
from .rules import demo_qualifier

JOBS_CN = ["采购经理", "总经理", "设计师", "采购总监", "店长", "项目经理", "销售经理"]
JOBS_EN = ["Purchasing Manager", "CEO", "Interior Designer", "Buyer", "Store Owner", "Project Manager", "Importer"]
COUNTRIES = ["CN"] * 7 + ["HK", "TW", "US", "DE", "IT", "JP", "KR", "AE", "AU", "GB", "VN", "MY", "IN", "RU"]
CATEGORY_WEIGHTS = {"buyer": 40, "trade_visitor": 35, "public": 15, "media": 4, "vip": 6}
SOURCE_WEIGHTS = {"online": 70, "import": 12, "walk_up": 8, "exhibitor_invitation": 7, "campaign": 3}
RETURNING_SHARE = 0.3  # of an edition's visitors who came to the one before
CANCELLED_EVERY = 50
ATTENDANCE = 0.65  # of the pre-registered visitors who come to the show


def contribute(world: DemoWorld) -> None:
    rng, sizes = world.rng, world.sizes
    made = 0
    previous_people: list[int] = []
    for index, edition in enumerate(world.editions):
        if edition is world.live:
            count = sizes.visitors
        else:
            count = int(sizes.visitors * (0.8 + 0.2 * index / max(1, sizes.editions - 1)))
        returning = rng.sample(previous_people, k=min(len(previous_people), int(count * RETURNING_SHARE)))
        new_ids = _insert_people(world, made, count - len(returning), world.registration_opens(edition))
        made += len(new_ids)
        people = returning + new_ids
        world.registrations[edition.id] = _insert_registrations(world, edition, people)
        _insert_interests(world, world.registrations[edition.id])
        previous_people = people
    _insert_possible_duplicates(world, new_ids)
    _registration_setup(world)


def _registration_setup(world: DemoWorld) -> None:
    """The live edition's registration setup (visitors.policy): registration opened on its date, media and VIP
    registrations are approved by staff, VIP places are limited."""
    live = world.live
    db.session.add(RegistrationPolicy(organizer_id=world.organizer.id, edition_id=live.id, invitation_only=False,
                                      opens_at=min(world.registration_opens(live), world.now)))
    for category, capacity, approval in (("media", None, True), ("vip", 400, True), ("buyer", None, False)):
        db.session.add(CategorySetting(organizer_id=world.organizer.id, edition_id=live.id, category=category,
                                       capacity=capacity, needs_approval=approval))
    db.session.flush()


DUPLICATE_PAIRS = 3  # people who came last year under another email, for the staff's review list


def _insert_possible_duplicates(world: DemoWorld, live_new_ids: list[int]) -> None:
    """A few visitors the review list should show: this year's newcomers who in fact came last year under
    their personal email (same name, company and phone: merge them), and a colleague who gave the company
    switchboard's number (same phone, another person: keep them apart)."""
    if len(world.editions) < 2 or len(live_new_ids) < DUPLICATE_PAIRS + 1:
        return
    originals = list(db.session.scalars(select(Person).where(Person.id.in_(
        world.rng.sample(live_new_ids, k=DUPLICATE_PAIRS + 1))).order_by(Person.id)))
    created = min(world.registration_opens(world.editions[-2]), world.now)
    rows = []
    for n, person in enumerate(originals[:DUPLICATE_PAIRS]):
        email = f"{person.email.split('@')[0]}.personal@example.net"
        rows.append({"organizer_id": person.organizer_id, "name": person.name, "email": email, "email_key": email,
                     "phone": person.phone, "phone_key": person.phone_key, "name_key": person.name_key,
                     "company": person.company, "job_title": person.job_title, "country": person.country,
                     "created_at": created, "updated_at": created})
    switchboard = originals[-1]
    email = f"colleague.of.{switchboard.email}"
    name = cn_name(world.rng)
    rows.append({"organizer_id": switchboard.organizer_id, "name": name, "email": email, "email_key": email,
                 "phone": switchboard.phone, "phone_key": switchboard.phone_key,
                 "name_key": name_key(name, switchboard.company), "company": switchboard.company,
                 "job_title": JOBS_CN[0], "country": switchboard.country, "created_at": created, "updated_at": created})
    first_id = (db.session.scalar(select(func.max(Person.id))) or 0) + 1
    db.session.execute(insert(Person), rows)
    twins = list(db.session.scalars(select(Person.id).where(Person.id >= first_id).order_by(Person.id)))
    last_year = world.editions[-2]
    world.registrations[last_year.id] += _insert_registrations(world, last_year, twins[:DUPLICATE_PAIRS])
    world.registrations[world.live.id] += _insert_registrations(world, world.live, twins[DUPLICATE_PAIRS:])


def _insert_people(world: DemoWorld, offset: int, count: int, created: datetime) -> list[int]:
    rng, rows = world.rng, []
    created = min(created, world.now)
    for n in range(offset, offset + count):
        chinese = rng.random() < 0.65
        email = f"visitor{n}@{'example.cn' if chinese else DEMO_DOMAIN}"
        phone = f"+86 13{rng.randrange(10**8, 10**9)}" if chinese else f"+49 15{rng.randrange(10**7, 10**8)}"
        name = cn_name(rng) if chinese else en_name(rng)
        company = rng.choice(company_names(rng, 1)) if rng.random() < 0.85 else ""
        rows.append({"organizer_id": world.organizer.id, "name": name,
                     "email": email, "email_key": email, "phone": phone, "phone_key": phone_key(phone),
                     "name_key": name_key(name, company), "company": company,
                     "job_title": rng.choice(JOBS_CN if chinese else JOBS_EN),
                     "country": "CN" if chinese else rng.choice(COUNTRIES), "created_at": created,
                     "updated_at": created})
    if not rows:
        return []
    first_id = (db.session.scalar(select(func.max(Person.id))) or 0) + 1
    db.session.execute(insert(Person), rows)
    return list(db.session.scalars(select(Person.id).where(Person.organizer_id == world.organizer.id,
                                                           Person.id >= first_id).order_by(Person.id)))


def _insert_registrations(world: DemoWorld, edition, person_ids: list[int]) -> list[DemoRegistration]:
    rng = world.rng
    opens = world.registration_opens(edition)
    show_starts = datetime.combine(edition.starts_on, time(0), ZoneInfo(edition.timezone))
    pre_show_end = min(show_starts - timedelta(seconds=1), world.now)
    windows = world.show_windows(edition)
    consent = current_consent(edition)
    qualifiers = world.__dict__.setdefault("question_qualifiers", {})  # one set of questions and rules an edition
    qualify = qualifiers.get(edition.id) or qualifiers.setdefault(edition.id, demo_qualifier(edition, rng))
    rows = []
    for person_id in person_ids:
        source = weighted(rng, SOURCE_WEIGHTS)
        if source == "walk_up" and windows:
            created = world.moment(*rng.choice(windows))  # at the venue, on a show day that has begun
        else:
            created = world.moment(min(opens, pre_show_end), pre_show_end)
        rows.append({"organizer_id": world.organizer.id, "edition_id": edition.id, "person_id": person_id,
                     "category": weighted(rng, CATEGORY_WEIGHTS), "status": "confirmed", "source": source,
                     "answers": {}, "consent_version": edition.consent_version, "consent_at": created,
                     "consent_version_id": consent.id, "share_with_exhibitors": (shared := rng.random() < 0.85),
                     "badge_serial": 1,
                     "access_key": secrets.token_urlsafe(32), "locale": "zh_CN" if rng.random() < 0.6 else "en",
                     "created_at": created})
        # sharing with exhibitors: a consent of its own (time and version), here given with the registration
        rows[-1].update(sharing_at=created if shared else None, sharing_version_id=consent.id if shared else None)
        rows[-1].update(qualify(rows[-1]["category"]))  # answers to the edition's questions; the rules decide
    for row in rng.sample(rows, k=len(rows) // CANCELLED_EVERY):
        row["status"] = "cancelled"
    if not rows:
        return []
    first_id = (db.session.scalar(select(func.max(Registration.id))) or 0) + 1
    db.session.execute(insert(Registration), rows)
    ids = db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id,
                                                           Registration.id >= first_id).order_by(Registration.id))
    # Who came, once the show has begun: every walk-up, and about two in three of the others.
    came = [bool(windows) and row["status"] != "cancelled"
            and (row["source"] == "walk_up" or rng.random() < ATTENDANCE) for row in rows]
    return [DemoRegistration(id=reg_id, person_id=row["person_id"], created_at=row["created_at"],
                             cancelled=row["status"] == "cancelled", came=showed_up)
            for reg_id, row, showed_up in zip(ids, rows, came)]


def _insert_interests(world: DemoWorld, registrations: list[DemoRegistration]) -> None:
    rows = [{"registration_id": registration.id, "category_id": leaf.id}
            for registration in registrations
            for leaf in world.rng.sample(world.categories, k=world.rng.randint(1, 3))]
    if rows:
        db.session.execute(insert(registration_interests), rows)
