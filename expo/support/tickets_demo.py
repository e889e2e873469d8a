"""Demo data of the support module's tickets part: a realistic mix of complaints, suggestions and requests from
exhibitors (portal, staff taking calls) and visitors (their signed link), in Chinese and English; some still open
and overdue (escalated), some in progress, many resolved (a few late), most of those rated by the requester.
Rows go through the service (audit, timeline); resolutions are written directly, without the rating mail (the
demo's outbox stays for the mails people trigger themselves)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from ..core.demo import DemoWorld
from ..extensions import db
from ..visitors.models import Registration
from . import services

# (kind, urgency, subject, description, resolution)
EXHIBITOR_ISSUES = [
    ("complaint", "urgent", "展位断电，灯箱不亮", "从早上九点开始展位没有电，客户来了看不到样品灯光效果。",
     "已安排电工处理，十分钟内恢复供电。"),
    ("complaint", "urgent", "Booth power is off since 9:00", "Our lightbox and the demo screens are dark. Please send an "
     "electrician.", "The hall electrician replaced the breaker; power is back at 9:40."),
    ("complaint", "normal", "隔壁展位音响太吵", "B12 展位的音乐音量过大，影响我们和客户洽谈。", "已与相关展位沟通，音量已调低。"),
    ("request", "urgent", "Need 4 more chairs and a table", "We have more meetings than expected. Stand 2-C18.",
     "Four chairs and a table brought from the service desk."),
    ("request", "normal", "申请增加两张参展证", "新增两位销售同事明天到场，需要办理展商证件。", "已补办两张展商证，请到 1 号馆服务台领取。"),
    ("request", "normal", "Wi-Fi password for exhibitors", "The password on the manual does not work.",
     "The manual had last year's password; the new one was mailed to your exhibitor admin."),
    ("complaint", "normal", "Carpet at our stand is torn", "Someone could trip at the entrance of the stand.",
     "The carpet was replaced this evening after the show closed."),
    ("suggestion", "normal", "建议延长撤展时间", "撤展只有四个小时，大型展品来不及拆装。", "感谢建议，下届撤展时间将延长至六小时。"),
    ("suggestion", "normal", "Put the buyer list in the portal earlier",
     "Two weeks before the show would help us plan meetings.",
     "Thank you: from the next edition the buyer list opens in the portal three weeks before the show."),
    ("request", "urgent", "货物卡在仓库未送达展位", "物流单号 SF1234567，今天开展前必须到位。", "已联系主场物流，货物上午十点前送达展位。"),
    ("complaint", "normal", "Invoice shows the wrong booth area", "We booked 36 m², the invoice says 54 m².",
     "Invoice corrected to 36 m² and sent again."),
    ("request", "normal", "需要展位电源改为三相电", "新设备需要 380V 电源。", "已改接三相电，请现场确认。"),
]
VISITOR_ISSUES = [
    ("complaint", "normal", "入口排队太久", "早上在 1 号门排了四十分钟才进场。", "明天起 1 号门增开四条通道，并开放 3 号门。"),
    ("complaint", "urgent", "Lost my badge", "I left my badge in the taxi; can you reissue it? I have meetings at 14:00.",
     "Badge reissued at the service desk in hall 1; the old one no longer opens the gates."),
    ("suggestion", "normal", "希望增加中文以外的指示牌", "海外买家很难找到 3 号馆。", "已在各入口增加中英文指示牌。"),
    ("request", "normal", "How do I get the certificate of attendance?", "My company needs it for the travel expenses.",
     "The certificate was mailed to you as a PDF."),
    ("suggestion", "normal", "More seats in the food court", "At noon there was nowhere to sit.",
     "Thank you: 120 more seats were set up in the east hall food court."),
    ("complaint", "normal", "停车场收费太贵", "P2 停车场一天 120 元，希望有观众优惠。", "专业观众凭胸卡可享 P3 停车场半价。"),
    ("request", "urgent", "胸卡上的公司名称错误", "公司名称应为“深圳华南家具有限公司”。", "已更正胸卡信息并重新发送。"),
    ("complaint", "normal", "The shuttle bus did not come", "Waited 30 minutes at the metro station exit B.",
     "The shuttle now leaves every 15 minutes from exit B; sorry for the wait."),
]
GOOD = ["处理很快，谢谢！", "Fast and friendly.", "Great service desk team.", "满意。", "", ""]
BAD = ["问题解决了，但等了比较久。", "Took two days, too slow for a show day.", "希望下次能更快回复。", ""]


def contribute(world: DemoWorld) -> None:
    if not world.editions:
        return
    rng = world.rng
    owners = [world.user_ids[r] for r in ("manager", "sales", "onsite") if r in world.user_ids]
    for n, edition in enumerate(reversed(world.editions[-2:])):
        live = n == 0
        exhibitors = list(world.exhibitors.get(edition.id, []))
        registrations = [r for r in world.registrations.get(edition.id, []) if not r.cancelled]
        if not exhibitors and not registrations:
            continue
        count = 36 if live else 24
        # the live edition's tickets came in over the last two weeks; the closed one's around its show days
        end = world.now if live else min(world.now, _at(edition.ends_on, world) + timedelta(days=10))
        for i in range(count):
            from_visitor = registrations and (not exhibitors or rng.random() < 0.4)
            kind, urgency, subject, text, resolution = rng.choice(VISITOR_ISSUES if from_visitor else EXHIBITOR_ISSUES)
            stuck = live and i < 3  # a few urgent ones nobody finished: overdue now, escalated
            if stuck:
                urgency = "urgent"
            created = end - timedelta(hours=rng.uniform(4.5 * 24, 7 * 24) if stuck else rng.uniform(2, 14 * 24))
            registration = exhibitor = None
            if from_visitor:
                registration = db.session.get(Registration, rng.choice(registrations).id)
            else:
                exhibitor = rng.choice(exhibitors)
            owner = rng.choice(owners) if owners and rng.random() < 0.8 else None
            source = "visitor" if from_visitor else rng.choice(("portal", "portal", "staff"))
            ticket = services.create_ticket(world.scope, edition, kind=kind, urgency=urgency, subject=subject,
                                            description=text, source=source, exhibitor=exhibitor,
                                            registration=registration, owner_id=owner,
                                            contact=f"+86 139 0000 {rng.randint(0, 9999):04d}" if source == "staff"
                                            else "",
                                            actor_id=world.user_ids.get("onsite") if source == "staff" else None,
                                            now=created)
            _progress(world, ticket, live, owner, resolution, stuck)
    db.session.flush()


def _at(day, world):
    return datetime.combine(day, time(18, 0), world.zone)


def _progress(world: DemoWorld, ticket, live: bool, owner, resolution: str, stuck: bool = False) -> None:
    """Older tickets are mostly resolved (a fifth of them late, rated lower); recent ones are open or in
    progress; a few of the live edition's are overdue (and escalated)."""
    rng, now = world.rng, world.now
    actor = owner or world.user_ids.get("manager")
    age = now - ticket.created_at
    response = ticket.created_at + timedelta(hours=rng.uniform(0.2, 20))
    if not stuck and (not live or rng.random() < min(0.95, 0.15 + age.days * 0.12)):
        late = rng.random() < 0.2
        allowed = ticket.due_at - ticket.created_at
        resolved = ticket.created_at + allowed * (rng.uniform(1.05, 1.8) if late else rng.uniform(0.05, 0.9))
        resolved = min(resolved, now - timedelta(minutes=5))
        if resolved <= ticket.created_at:
            return
        response = min(response, resolved)
        ticket.first_response_at, ticket.status = response, "resolved"
        ticket.resolution, ticket.resolved_at = resolution, resolved
        services._event(ticket, "ticket.resolved", actor_id=actor, at=resolved,
                        details={"on_time": resolved <= ticket.due_at})
        if rng.random() < 0.75:
            on_time = resolved <= ticket.due_at
            rating = rng.choice((3, 4, 4, 5, 5, 5) if on_time else (1, 2, 2, 3, 4))
            ticket.rating, ticket.rating_comment = rating, rng.choice(GOOD if rating >= 4 else BAD)
            ticket.rated_at = min(resolved + timedelta(hours=rng.uniform(1, 30)), now)
            services._event(ticket, "ticket.rated", actor_id=None, at=ticket.rated_at, details={"rating": rating})
        if not live or rng.random() < 0.3:
            ticket.status, ticket.closed_at = "closed", min(ticket.resolved_at + timedelta(days=2), now)
    elif rng.random() < 0.6 and response < now:  # in progress
        ticket.first_response_at, ticket.status = response, "in_progress"
    if ticket.status in ("open", "in_progress") and ticket.due_at < now:
        ticket.escalated_at = ticket.due_at + timedelta(minutes=10)
        services._event(ticket, "ticket.escalated", actor_id=None, at=ticket.escalated_at,
                        details={"due_at": ticket.due_at.isoformat()})
