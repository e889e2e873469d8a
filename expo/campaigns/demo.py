"""Demo campaigns: last edition's buyers and trade visitors invited to the live edition (sent a month before
the show, with openings, registrations through the link and a few unsubscribes), and a draft."""
from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import insert, select, update

from ..core import activity
from ..core import services as core
from ..core.demo import DemoWorld
from ..core.models import Category
from ..extensions import db
from ..visitors.models import Person, Registration
from . import segments, services
from .models import Recipient
from .segments import Segment

BODY_EN = ("Dear {name},\n\nthank you for visiting us last year. {edition} opens its doors on {dates}: more than "
           "a thousand exhibitors of furniture, office furniture and interiors.\n\nRegister now, it takes a minute "
           "and your badge comes by mail:\n{link}\n\nWe look forward to seeing you again.")
BODY_ZH = ("{name}，您好：\n\n感谢您去年莅临展会。{edition}将于{dates}开幕，上千家家具、办公家具与家居企业参展。\n\n"
           "现在登记只需一分钟，胸卡将通过邮件发送给您：\n{link}\n\n期待与您再次相见。")
OPENED = 0.38  # of the mails sent, the links opened
REGISTERED_THROUGH = 0.55  # of those who opened it and registered afterwards, through the link
UNSUBSCRIBED = 0.012


def contribute(world: DemoWorld) -> None:
    if len(world.editions) < 2:
        return
    rng, live = world.rng, world.live
    dates = f"{live.starts_on:%Y-%m-%d}"
    sent_at = min(world.registration_opens(live) + timedelta(days=10), world.now - timedelta(days=2))
    data = services.CampaignData(
        name="Invitation: last year's buyers and trade visitors",
        segment=Segment(attended="previous", categories=["buyer", "trade_visitor"]),
        subject_en=f"Your invitation to {live.name}", subject_zh=f"诚邀您参观{live.name}",
        body_en=BODY_EN.replace("{edition}", live.name).replace("{dates}", dates),
        body_zh=BODY_ZH.replace("{edition}", live.name).replace("{dates}", dates))
    campaign = services.create_campaign(world.scope, live, data, actor_id=world.user_ids.get("manager"))
    campaign.created_at = sent_at - timedelta(days=2)
    people = list(db.session.scalars(segments.person_ids(live, services.segment_of(campaign))))
    if not people:
        return
    locales = dict(db.session.execute(select(Registration.person_id, Registration.locale)
                                      .where(Registration.person_id.in_(people))
                                      .order_by(Registration.created_at)).all())  # the last one wins
    rows = []
    for n, person_id in enumerate(people):
        at = sent_at + timedelta(seconds=n)  # a batch a minute, at the default rate
        clicked = at + timedelta(minutes=rng.randint(5, 60 * 24 * 6)) if rng.random() < OPENED else None
        rows.append({"organizer_id": world.organizer.id, "campaign_id": campaign.id, "person_id": person_id,
                     "locale": locales.get(person_id, "en"), "status": "sent", "sent_at": at,
                     "clicked_at": clicked if clicked and clicked < world.now else None})
    db.session.execute(insert(Recipient), rows)
    campaign.status, campaign.recipient_count = "sent", len(rows)
    campaign.started_at, campaign.finished_at = sent_at, sent_at + timedelta(minutes=len(rows) // 60 + 1)
    campaign.last_batch_at = campaign.finished_at - timedelta(minutes=1)

    opened = {row["person_id"]: row["clicked_at"] for row in rows if row["clicked_at"]}
    later = db.session.execute(select(Registration.id, Registration.person_id, Registration.created_at)
                               .where(Registration.edition_id == live.id, Registration.source == "online",
                                      Registration.person_id.in_(list(opened)))).all()
    through = [reg_id for reg_id, person_id, created in later
               if _aware(created) >= _aware(opened[person_id]) - timedelta(days=1)
               and rng.random() < REGISTERED_THROUGH]
    if through:
        db.session.execute(update(Registration).where(Registration.id.in_(through))
                           .values(source="campaign", campaign_id=campaign.id))
    activity.record_many(
        [{"kind": "campaign.mail_sent", "organizer_id": world.organizer.id, "subject_type": "person",
          "subject_id": row["person_id"], "edition_id": live.id, "object_type": "campaigns",
          "object_id": campaign.id, "details": {"campaign": campaign.name}, "at": row["sent_at"]} for row in rows]
        + [{"kind": "campaign.link_opened", "organizer_id": world.organizer.id, "subject_type": "person",
            "subject_id": person_id, "edition_id": live.id, "object_type": "campaigns", "object_id": campaign.id,
            "details": {"campaign": campaign.name}, "at": at} for person_id, at in opened.items()])
    leaving = rng.sample(people, k=int(len(people) * UNSUBSCRIBED))
    for email in db.session.scalars(select(Person.email).where(Person.id.in_(leaving))):
        core.unsubscribe(world.organizer.id, email, source=f"campaign:{campaign.id}")

    office = db.session.scalar(select(Category).where(Category.show_id == live.show_id, Category.parent_id.is_(None))
                               .order_by(Category.name).limit(1))
    draft = services.CampaignData(
        name="Reminder: buyers not registered yet",
        segment=Segment(attended="show", categories=["buyer"], interests=[office.id] if office else [],
                        registered="no"),
        subject_en=f"{live.name}: the show is open — register at the entrance or online",
        subject_zh=f"{live.name}正在举办，欢迎在线登记",
        body_en="Dear {name},\n\nthe show is open until the last day. Register online and skip the queue:\n{link}",
        body_zh="{name}，您好：\n\n展会正在举办中。在线登记，入场免排队：\n{link}")
    services.create_campaign(world.scope, live, draft, actor_id=world.user_ids.get("manager"))
    # two supply-and-demand digests, drafts ready to send (weekly to core buyers; to paying exhibitors)
    from . import digests

    digests.create_digest(world.scope, live, "Weekly buyers' digest 买家周报",
                          digests.DigestSettings(audience="visitors", repeat=True),
                          actor_id=world.user_ids.get("manager"))
    digests.create_digest(world.scope, live, "Exhibitors' buyer digest 展商买家简报",
                          digests.DigestSettings(audience="exhibitors", exhibitor_statuses=["contracted", "paid"]),
                          actor_id=world.user_ids.get("manager"))
    db.session.flush()


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
