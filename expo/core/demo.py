"""Core's part of the demo show, and what every module's part shares: the world they fill in turn.

The shell (expo/demo.py) makes one ``DemoWorld`` and hands it to each registered module's ``demo``
callable, lowest floor first. Each part adds its rows and leaves in the world what higher floors need
(ids, times), so that no module has to import a higher one or query another's tables.

Everything happens relative to ``world.now``: the live edition's show days began yesterday (in the
edition's zone), so yesterday is a full show day, today runs until now, and later days are still ahead;
older editions are closed, a year apart, entirely in the past. Nothing is dated after ``now``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from . import services as core
from .scoping import Scope

DEMO_PASSWORD = "expo-demo-2026"
DEMO_DOMAIN = "example.com"
DEMO_ZONE = "Asia/Shanghai"
SHOW_DAYS = 4
OPENING, CLOSING = time(9, 0), time(17, 0)  # the halls' hours, in the edition's zone
REGISTRATION_OPENS_DAYS = 90  # before the first show day

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
CN_BRANDS = ["宏达", "华美", "金雅", "盛世", "嘉禾", "东方", "森林", "雅居", "恒通", "新光", "百利", "万家", "顺发", "美凯", "锦程"]
CN_TRADES = ["家具", "家居", "木业", "照明", "纺织", "五金", "智能家居", "办公家具", "软体家具", "实业"]
EN_COMPANY_A = ["Nordic", "Pacific", "Golden", "Evergreen", "Summit", "Blue Ocean", "Harbor", "Maple", "Lotus",
                "Silverline", "Crown", "Atlas", "Bright", "Oak & Stone", "Vista", "Urban"]
EN_COMPANY_B = ["Furniture", "Home", "Interiors", "Lighting", "Living", "Design", "Textiles", "Woodworks"]
EN_COMPANY_C = ["Co., Ltd.", "GmbH", "Inc.", "Ltd.", "S.p.A.", "B.V.", "Group"]

ROLE_ACCOUNTS = [("owner", "Olivia Owner 欧主管"), ("manager", "Mark Manager 马经理"), ("sales", "Sally Sales 沙销售"),
                 ("onsite", "Oscar Onsite 欧现场"), ("analyst", "Ann Analyst 安分析")]

DEMO_DESCRIPTION = ("深圳国际家具展：家具、家居、照明与材料机械的年度盛会，专业买家与全球展商在此洽谈合作。"
                    "\nThe Shenzhen International Furniture Fair: furniture, home textiles, lighting, materials and "
                    "machinery — the year's meeting place of professional buyers and exhibitors from around the world.")
DEMO_CONSENT = ("我同意主办方为举办本届展会、入场核验及邀请我参加下届展会而保存和使用我的登记信息；我可随时要求查阅或删除我的数据。"
                " / I agree that the organizer stores and uses my registration data to run this show, to admit me "
                "at the entrance and to invite me to its next editions. I can ask for my data or its erasure at any "
                "time.")


@dataclass(frozen=True)
class Sizes:
    visitors: int = 1000  # registrations in the live edition (older editions have somewhat fewer)
    exhibitors: int = 30  # exhibitors taking part in each edition
    editions: int = 2  # editions of the show, the last one live


@dataclass
class DemoRegistration:
    id: int
    person_id: int
    created_at: datetime
    cancelled: bool
    came: bool  # to the show days so far (the on-site part checks them in; exhibitors scan only them)


@dataclass
class DemoLead:
    id: int
    exhibitor_id: int
    registration_id: int
    captured_by_id: int | None
    at: datetime


@dataclass
class DemoWorld:
    """What the modules' demo parts build, in floor order; each reads what lower floors left here."""

    rng: random.Random
    now: datetime  # aware; nothing is dated later
    sizes: Sizes
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEMO_ZONE))
    # core
    organizer: object = None
    show: object = None
    categories: list = field(default_factory=list)  # the leaf categories
    editions: list = field(default_factory=list)  # oldest first; the last one is live
    accounts: dict = field(default_factory=dict)  # role -> email of the demo sign-ins
    user_ids: dict = field(default_factory=dict)  # role -> user id of the organizer's demo accounts
    # exhibitors
    exhibitors: dict = field(default_factory=dict)  # edition id -> exhibitors taking part
    staff: dict = field(default_factory=dict)  # exhibitor id -> user ids of its booth staff
    # visitors
    registrations: dict = field(default_factory=dict)  # edition id -> [DemoRegistration]
    # leads
    leads: dict = field(default_factory=dict)  # edition id -> [DemoLead]

    @property
    def scope(self) -> Scope:
        return Scope(self.organizer.id)

    @property
    def live(self):
        return self.editions[-1]

    @property
    def today(self) -> date:
        """Today where the show is."""
        return self.now.astimezone(self.zone).date()

    def show_windows(self, edition) -> list[tuple[datetime, datetime]]:
        """The (opening, closing) UTC moments of the edition's show days so far: past days whole, today
        up to now, nothing of the days ahead."""
        zone = ZoneInfo(edition.timezone)
        windows = []
        day = edition.starts_on
        while day <= edition.ends_on:
            start = datetime.combine(day, OPENING, zone).astimezone(timezone.utc)
            end = min(datetime.combine(day, CLOSING, zone).astimezone(timezone.utc), self.now)
            if end > start:
                windows.append((start, end))
            day += timedelta(days=1)
        return windows

    def registration_opens(self, edition) -> datetime:
        zone = ZoneInfo(edition.timezone)
        return datetime.combine(edition.starts_on - timedelta(days=REGISTRATION_OPENS_DAYS), time(0), zone)

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end], to the second."""
        seconds = max(0, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randint(0, seconds))


def cn_name(rng) -> str:
    return rng.choice(CN_SURNAMES) + "".join(rng.choice(CN_GIVEN) for _ in range(rng.choice((1, 2))))


def en_name(rng) -> str:
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def company_names(rng, count: int) -> list[str]:
    """Distinct company names, about 60% Chinese."""
    names, seen = [], set()
    while len(names) < count:
        if rng.random() < 0.6:
            name = f"{rng.choice(CN_CITIES)}{rng.choice(CN_BRANDS)}{rng.choice(CN_TRADES)}有限公司"
        else:
            name = f"{rng.choice(EN_COMPANY_A)} {rng.choice(EN_COMPANY_B)} {rng.choice(EN_COMPANY_C)}"
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def years_before(day: date, years: int) -> date:
    """The same date some years earlier; 29 February becomes the 28th in years without one."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def contribute(world: DemoWorld) -> None:
    """The organizer, its staff accounts (one per role), the show, its category tree and its editions."""
    world.organizer = core.create_organizer("Greater Bay Expo Group 大湾区会展集团")
    for role, name in ROLE_ACCOUNTS:
        user = core.create_user(world.organizer.id, f"{role}@{DEMO_DOMAIN}", name, DEMO_PASSWORD, role)
        world.accounts[role] = user.email
        world.user_ids[role] = user.id
    world.show = core.create_show(world.scope, "Shenzhen International Furniture Fair 深圳国际家具展")
    for parent_name, children in CATEGORY_TREE.items():
        parent = core.add_category(world.scope, world.show, parent_name)
        world.categories += [core.add_category(world.scope, world.show, child, parent) for child in children]

    live_start = world.today - timedelta(days=1)  # the live edition's second day is today
    for back in range(world.sizes.editions - 1, -1, -1):
        start = years_before(live_start, back)
        world.editions.append(core.create_edition(
            world.scope, world.show, f"SZIFF {start.year}", start, start + timedelta(days=SHOW_DAYS - 1),
            venue="Shenzhen World Exhibition & Convention Center 深圳国际会展中心", timezone=DEMO_ZONE,
            status="live" if back == 0 else "closed", consent_text=DEMO_CONSENT, description=DEMO_DESCRIPTION))
