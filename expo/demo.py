"""Demo data and the synthetic data generator (one code path; benchmarks pass bigger sizes).

A living show: one organizer, a show with closed past editions and a live current one, a category
tree, exhibitors with Chinese and English names (some of last year's did not rebook), visitors of
every category (some returning), check-ins over the show days, and leads captured at the booths.
"""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from .core import services as core
from .core.models import Organizer, User
from .core.scoping import Scope
from .exhibitors import services as exhibitor_services
from .extensions import db
from .leads.models import Lead
from .onsite.models import Scan
from .visitors.models import Person, Registration, registration_interests

DEMO_PASSWORD = "expo-demo-2026"
DEMO_DOMAIN = "example.com"

CATEGORY_TREE = {
    "Furniture 家具": ["Living room 客厅家具", "Office furniture 办公家具", "Outdoor 户外家具", "Hotel 酒店家具"],
    "Home textiles 家纺": ["Bedding 床上用品", "Curtains 窗帘"],
    "Lighting 照明": ["LED 照明", "Smart lighting 智能照明"],
    "Materials & machinery 材料与机械": ["Wood panels 板材", "Hardware 五金配件", "CNC machinery 数控设备"],
}
CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢"
CN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁晨欣悦琳"
EN_FIRST = ["James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Sophie", "Thomas",
            "Anna", "Lucas", "Mia", "Oliver", "Chloe", "Ethan", "Laura", "Noah", "Julia", "Kenji", "Aiko", "Raj", "Priya"]
EN_LAST = ["Smith", "Johnson", "Brown", "Müller", "Rossi", "Dubois", "García", "Tanaka", "Kim", "Nguyen", "Patel",
           "Silva", "Novak", "Jansen", "Larsen", "O'Brien", "Kowalski", "Schmidt", "Martin", "Costa"]
CN_CITIES = ["深圳", "广州", "佛山", "东莞", "上海", "杭州", "宁波", "成都", "青岛", "厦门", "苏州", "温州"]
CN_TRADES = ["家具", "家居", "木业", "照明", "纺织", "五金", "智能家居", "办公家具", "软体家具", "实业"]
EN_COMPANY_A = ["Nordic", "Pacific", "Golden", "Evergreen", "Summit", "Blue Ocean", "Harbor", "Maple", "Lotus",
                "Silverline", "Crown", "Atlas", "Bright", "Oak & Stone", "Vista", "Urban"]
EN_COMPANY_B = ["Furniture", "Home", "Interiors", "Lighting", "Living", "Design", "Textiles", "Woodworks"]
EN_COMPANY_C = ["Co., Ltd.", "GmbH", "Inc.", "Ltd.", "S.p.A.", "B.V.", "Group"]
JOBS_CN = ["采购经理", "总经理", "设计师", "采购总监", "店长", "项目经理", "销售经理"]
JOBS_EN = ["Purchasing Manager", "CEO", "Interior Designer", "Buyer", "Store Owner", "Project Manager", "Importer"]
COUNTRIES = ["CN"] * 7 + ["HK", "TW", "US", "DE", "IT", "JP", "KR", "AE", "AU", "GB", "VN", "MY", "IN", "RU"]
CATEGORY_WEIGHTS = {"buyer": 40, "trade_visitor": 35, "public": 15, "media": 4, "vip": 6}
SOURCE_WEIGHTS = {"online": 70, "import": 12, "walk_up": 8, "exhibitor_invitation": 7, "campaign": 3}

ROLE_ACCOUNTS = [("owner", "Olivia Owner 欧主管"), ("manager", "Mark Manager 马经理"), ("sales", "Sally Sales 沙销售"),
                 ("onsite", "Oscar Onsite 欧现场"), ("analyst", "Ann Analyst 安分析")]


DEMO_CONSENT = ("我同意主办方为举办本届展会、入场核验及邀请我参加下届展会而保存和使用我的登记信息；我可随时要求查阅或删除我的数据。"
                " / I agree that the organizer stores and uses my registration data to run this show, to admit me "
                "at the entrance and to invite me to its next editions. I can ask for my data or its erasure at any "
                "time.")


def is_empty() -> bool:
    return db.session.scalar(select(func.count(Organizer.id))) == 0


def _cn_name(rng):
    return rng.choice(CN_SURNAMES) + "".join(rng.choice(CN_GIVEN) for _ in range(rng.choice((1, 2))))


def _en_name(rng):
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def _company_names(rng, count):
    names, seen = [], set()
    while len(names) < count:
        if rng.random() < 0.6:
            name = f"{rng.choice(CN_CITIES)}{rng.choice(['宏达', '华美', '金雅', '盛世', '嘉禾', '东方', '森林', '雅居', '恒通', '新光', '百利', '万家', '顺发', '美凯', '锦程'])}{rng.choice(CN_TRADES)}有限公司"
        else:
            name = f"{rng.choice(EN_COMPANY_A)} {rng.choice(EN_COMPANY_B)} {rng.choice(EN_COMPANY_C)}"
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def _years_before(day: date, years: int) -> date:
    """The same date some years earlier; 29 February becomes the 28th in years without one."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(rng, day: date, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(9, 0), zone) + timedelta(minutes=rng.randrange(0, 8 * 60))
    return local.astimezone(timezone.utc)


def generate(*, visitors: int = 1000, exhibitors: int = 30, editions: int = 2, seed: int = 2026,
             today: date | None = None) -> dict:
    """Create the show. Returns the demo accounts ({role: email}) and the ids of what it made."""
    rng = random.Random(seed)
    today = today or date.today()
    organizer = core.create_organizer("Greater Bay Expo Group 大湾区会展集团")
    scope = Scope(organizer.id)
    accounts = {}
    for role, name in ROLE_ACCOUNTS:
        user = core.create_user(organizer.id, f"{role}@{DEMO_DOMAIN}", name, DEMO_PASSWORD, role)
        accounts[role] = user.email
    show = core.create_show(scope, "Shenzhen International Furniture Fair 深圳国际家具展")
    leaves = []
    for parent_name, children in CATEGORY_TREE.items():
        parent = core.add_category(scope, show, parent_name)
        leaves += [core.add_category(scope, show, child, parent) for child in children]

    zone_name = "Asia/Shanghai"
    zone = ZoneInfo(zone_name)
    live_start = today - timedelta(days=1)
    edition_rows = []
    for back in range(editions - 1, -1, -1):
        start = _years_before(live_start, back)
        edition = core.create_edition(scope, show, f"SZIFF {start.year}", start, start + timedelta(days=3),
                                      venue="Shenzhen World Exhibition & Convention Center 深圳国际会展中心",
                                      timezone=zone_name, status="live" if back == 0 else "closed",
                                      consent_text=DEMO_CONSENT)
        edition_rows.append(edition)

    # Exhibitors: a pool of companies; each edition rebooks ~75% of the last one's and recruits new ones.
    company_names = _company_names(rng, int(exhibitors * (1 + 0.35 * editions)) + 5)
    pool = iter(company_names)
    previous_names: list[str] = []
    exhibitors_by_edition = {}
    for edition in edition_rows:
        kept = [n for n in previous_names if rng.random() < 0.75][: exhibitors - 3]
        names = kept + [next(pool) for _ in range(exhibitors - len(kept))]
        rows = []
        for number, name in enumerate(names):
            hall = f"{1 + number % 9}"
            exhibitor = exhibitor_services.add_exhibitor(
                scope, edition, name, hall=hall, stand=f"{hall}{chr(65 + number % 6)}{10 + number:02d}",
                area_m2=rng.choice((9, 18, 36, 54, 72, 108)), price=rng.choice((9000, 18000, 36000, 54000)),
                status="exhibited" if edition.status == "closed" else "paid",
                country="CN" if any(ord(c) > 0x2E80 for c in name) else rng.choice(["DE", "IT", "US", "GB", "JP"]))
            exhibitor.categories = rng.sample(leaves, k=rng.randint(1, 3))
            rows.append(exhibitor)
        exhibitors_by_edition[edition.id] = rows
        previous_names = names
    # A few prospects for next year's pipeline sit on the live edition too.
    live = edition_rows[-1]
    for name in [next(pool) for _ in range(3)]:
        exhibitor_services.add_exhibitor(scope, live, name, status=rng.choice(("prospect", "contacted", "negotiating")))
    db.session.flush()

    live_exhibitors = exhibitors_by_edition[live.id]
    first = live_exhibitors[0]
    accounts["exhibitor_admin"] = exhibitor_services.add_staff(
        first, f"exhibitor@{DEMO_DOMAIN}", "Eva Exhibitor 易展商", DEMO_PASSWORD, "exhibitor_admin").email
    accounts["booth_staff"] = exhibitor_services.add_staff(
        first, f"booth@{DEMO_DOMAIN}", "Ben Booth 卞展位", DEMO_PASSWORD, "booth_staff").email
    staff_user_ids = {first.id: accounts_ids(accounts)}
    for exhibitor in live_exhibitors[1:]:
        user = exhibitor_services.add_staff(exhibitor, f"staff{exhibitor.id}@{DEMO_DOMAIN}",
                                            _en_name(rng), DEMO_PASSWORD, "booth_staff")
        staff_user_ids[exhibitor.id] = [user.id]
    onsite_id = db.session.scalar(select(User.id).where(User.email == accounts["onsite"]))

    # Visitors: each edition has `visitors` registrations scaled down for older editions; about 30%
    # of the live edition's visitors came to the previous one.
    person_ids: list[int] = []
    previous_people: list[int] = []
    for index, edition in enumerate(edition_rows):
        count = int(visitors * (0.8 + 0.2 * index / max(1, editions - 1))) if edition is not live else visitors
        returning = rng.sample(previous_people, k=min(len(previous_people), int(count * 0.3)))
        new_count = count - len(returning)
        new_ids = _insert_people(rng, organizer.id, len(person_ids), new_count)
        person_ids += new_ids
        people = returning + new_ids
        reg_ids = _insert_registrations(rng, organizer.id, edition, people)
        _insert_interests(rng, reg_ids, leaves)
        _insert_onsite(rng, organizer.id, edition, reg_ids, exhibitors_by_edition[edition.id], staff_user_ids,
                       onsite_id, zone, today)
        previous_people = people
    db.session.commit()
    return accounts


def accounts_ids(accounts):
    return list(db.session.scalars(select(User.id).where(User.email.in_(
        [accounts["exhibitor_admin"], accounts["booth_staff"]]))))


def _insert_people(rng, organizer_id, offset, count) -> list[int]:
    rows = []
    now = datetime.now(timezone.utc)
    for n in range(offset, offset + count):
        chinese = rng.random() < 0.65
        name = _cn_name(rng) if chinese else _en_name(rng)
        email = f"visitor{n}@{'example.cn' if chinese else DEMO_DOMAIN}"
        phone = f"+86 13{rng.randrange(10**8, 10**9)}" if chinese else f"+49 15{rng.randrange(10**7, 10**8)}"
        company = rng.choice(_company_names(rng, 1)) if rng.random() < 0.85 else ""
        rows.append({"organizer_id": organizer_id, "name": name, "email": email, "email_key": email,
                     "phone": phone, "phone_key": "".join(ch for ch in phone if ch.isdigit()),
                     "company": company, "job_title": rng.choice(JOBS_CN if chinese else JOBS_EN),
                     "country": "CN" if chinese else rng.choice(COUNTRIES), "created_at": now, "updated_at": now})
    if not rows:
        return []
    first_id = (db.session.scalar(select(func.max(Person.id))) or 0) + 1
    db.session.execute(insert(Person), rows)
    return list(db.session.scalars(select(Person.id).where(Person.organizer_id == organizer_id,
                                                           Person.id >= first_id).order_by(Person.id)))


def _insert_registrations(rng, organizer_id, edition, person_ids) -> list[int]:
    opened = datetime.combine(edition.starts_on - timedelta(days=90), time(0), timezone.utc)
    rows = []
    for person_id in person_ids:
        created = opened + timedelta(minutes=rng.randrange(0, 89 * 24 * 60))
        rows.append({"organizer_id": organizer_id, "edition_id": edition.id, "person_id": person_id,
                     "category": _weighted(rng, CATEGORY_WEIGHTS), "status": "confirmed",
                     "source": _weighted(rng, SOURCE_WEIGHTS), "answers": {}, "consent_version": "1",
                     "consent_at": created, "share_with_exhibitors": rng.random() < 0.85,
                     "badge_serial": 1, "access_key": secrets.token_urlsafe(32),
                     "locale": "zh_CN" if rng.random() < 0.6 else "en", "created_at": created})
    for row in rng.sample(rows, k=len(rows) // 50):
        row["status"] = "cancelled"
    db.session.execute(insert(Registration), rows)
    return list(db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id)
                                   .order_by(Registration.id)))


def _insert_interests(rng, reg_ids, leaves):
    rows = [{"registration_id": reg_id, "category_id": leaf.id}
            for reg_id in reg_ids for leaf in rng.sample(leaves, k=rng.randint(1, 3))]
    if rows:
        db.session.execute(insert(registration_interests), rows)


def _insert_onsite(rng, organizer_id, edition, reg_ids, exhibitors, staff_user_ids, onsite_id, zone, today):
    """Check-ins on the show days that have begun, and leads captured at the booths."""
    days = [edition.starts_on + timedelta(days=d) for d in range((edition.ends_on - edition.starts_on).days + 1)]
    days = [d for d in days if d <= today]
    if not days:
        return
    cancelled = set(db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id,
                                                                     Registration.status == "cancelled")))
    scans, leads = [], []
    attended = [r for r in reg_ids if r not in cancelled and rng.random() < 0.65]
    for reg_id in attended:
        for day in rng.sample(days, k=rng.randint(1, min(2, len(days)))):
            moment = _moment(rng, day, zone)
            scans.append(_scan_row(organizer_id, edition.id, onsite_id, None, reg_id, "checkin", moment, "ok",
                                   gate=rng.choice(("North 北门", "South 南门", "East 东门"))))
    lead_keys = set()
    for exhibitor in exhibitors:
        users = staff_user_ids.get(exhibitor.id) or [onsite_id]
        for reg_id in rng.sample(attended, k=min(len(attended), rng.randint(3, max(4, len(attended) // 20)))):
            if (exhibitor.id, reg_id) in lead_keys:
                continue
            lead_keys.add((exhibitor.id, reg_id))
            moment = _moment(rng, rng.choice(days), zone)
            leads.append({"organizer_id": organizer_id, "exhibitor_id": exhibitor.id, "registration_id": reg_id,
                          "captured_by_id": rng.choice(users) if exhibitor.id in staff_user_ids else None,
                          "rating": rng.choice(("hot", "warm", "warm", "cold", None)), "notes": "",
                          "scan_count": 1, "first_scanned_at": moment, "last_scanned_at": moment})
    if leads:
        db.session.execute(insert(Lead), leads)
        captured = db.session.execute(select(Lead.id, Lead.exhibitor_id, Lead.registration_id, Lead.captured_by_id,
                                             Lead.first_scanned_at)
                                      .join(Registration, Registration.id == Lead.registration_id)
                                      .where(Registration.edition_id == edition.id))
        for lead_id, exhibitor_id, reg_id, user_id, moment in captured:
            row = _scan_row(organizer_id, edition.id, user_id or onsite_id, exhibitor_id, reg_id, "lead", moment, "ok")
            row["lead_id"] = lead_id
            scans.append(row)
    if scans:
        db.session.execute(insert(Scan), scans)


def _scan_row(organizer_id, edition_id, user_id, exhibitor_id, reg_id, kind, moment, result, gate=None):
    naive = moment.astimezone(timezone.utc)
    return {"organizer_id": organizer_id, "edition_id": edition_id, "user_id": user_id, "exhibitor_id": exhibitor_id,
            "registration_id": reg_id, "kind": kind, "client_scan_id": secrets.token_hex(16),
            "raw_code": "(demo)", "gate": gate, "scanned_at": naive, "received_at": naive, "result": result,
            "reason": None}


def load_demo(visitors: int = 1000) -> dict:
    return generate(visitors=visitors, exhibitors=30, editions=2)


def sign_in_help(base: str, accounts: dict | None) -> str:
    if not accounts:
        accounts = dict(db.session.execute(select(User.role, User.email).where(User.email.like(f"%@{DEMO_DOMAIN}"),
                                                                               ~User.email.like("staff%"))).all())
    if not accounts:
        return "Sign in with your own accounts."
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    for role, email in accounts.items():
        lines.append(f"  {role:<16} {email}")
    from .core.models import Edition

    slug = db.session.scalar(select(Edition.slug).where(Edition.status == "live").limit(1))
    if slug:
        lines.append(f"Public visitor registration: {base}/e/{slug}")
    return "\n".join(lines)
