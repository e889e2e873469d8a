"""The exhibitors' part of the demo show: companies taking part in each edition (about three in four
rebook, new ones join), a few prospects in the live edition's pipeline, and the exhibitors' staff."""
from __future__ import annotations

from datetime import timedelta

from ..core.demo import DEMO_DOMAIN, DEMO_PASSWORD, DemoWorld, company_names, en_name
from ..extensions import db
from . import services

REBOOKING_RATE = 0.75


def contribute(world: DemoWorld) -> None:
    rng, size = world.rng, world.sizes.exhibitors
    pool = iter(company_names(rng, int(size * (1 + 0.35 * len(world.editions))) + 5))
    previous: list[str] = []
    for edition in world.editions:
        kept = [name for name in previous if rng.random() < REBOOKING_RATE][: size - 3]
        names = kept + [next(pool) for _ in range(size - len(kept))]
        taking_part = []
        for number, name in enumerate(names):
            hall = f"{1 + number % 9}"
            exhibitor = services.add_exhibitor(
                world.scope, edition, name, hall=hall, stand=f"{hall}{chr(65 + number % 6)}{10 + number:02d}",
                area_m2=rng.choice((9, 18, 36, 54, 72, 108)), price=rng.choice((9000, 18000, 36000, 54000)),
                status="exhibited" if edition.status == "closed" else "paid",
                country="CN" if any(ord(c) > 0x2E80 for c in name) else rng.choice(["DE", "IT", "US", "GB", "JP"]))
            exhibitor.categories = rng.sample(world.categories, k=rng.randint(1, 3))
            taking_part.append(exhibitor)
        world.exhibitors[edition.id] = taking_part
        previous = names
    # A few prospects for the live edition are still in the sales pipeline.
    for name in [next(pool) for _ in range(3)]:
        services.add_exhibitor(world.scope, world.live, name,
                               status=rng.choice(("prospect", "contacted", "negotiating")))
    db.session.flush()

    # The first live exhibitor has the demo's exhibitor sign-ins; every other one a booth staff member.
    first, *others = world.exhibitors[world.live.id]
    admin = services.add_staff(first, f"exhibitor@{DEMO_DOMAIN}", "Eva Exhibitor 易展商", DEMO_PASSWORD,
                               "exhibitor_admin")
    booth = services.add_staff(first, f"booth@{DEMO_DOMAIN}", "Ben Booth 卞展位", DEMO_PASSWORD, "booth_staff")
    world.accounts.update(exhibitor_admin=admin.email, booth_staff=booth.email)
    world.staff[first.id] = [admin.id, booth.id]
    for exhibitor in others:
        user = services.add_staff(exhibitor, f"staff{exhibitor.id}@{DEMO_DOMAIN}", en_name(rng), DEMO_PASSWORD,
                                  "booth_staff")
        world.staff[exhibitor.id] = [user.id]
    contribute_products(world)
    # Issue 8's parts, each in its own file: the living pipeline, the reps, the floor plan, the portal, the manual.
    from . import floor_demo, manual_demo, pipeline_demo, portal_demo, rep_demo

    for part in (pipeline_demo, rep_demo, floor_demo, portal_demo, manual_demo):
        part.contribute(world)


# --- products: each company's catalogue, from its categories -----------------------------------------
# (English name, Chinese name, English description, Chinese description) per leaf category of the demo tree.
PRODUCTS = {
    "Living room 客厅家具": [
        ("Modular fabric sofa", "模块化布艺沙发", "Three-seat sofa in removable, washable linen-blend covers; modules "
         "combine into L and U shapes. High-resilience foam, solid pine frame.", "三人位模块化沙发，亚麻混纺面料可拆洗，"
         "可自由组合成L形或U形；高回弹海绵，实木松木框架。"),
        ("Solid walnut coffee table", "北美黑胡桃实木茶几", "Coffee table in FAS-grade North American black walnut, "
         "oil and wax finish, hidden drawer.", "选用FAS级北美黑胡桃木，木蜡油涂装，带隐藏式抽屉。"),
        ("Leather recliner chair", "头层牛皮功能躺椅", "Power recliner in top-grain leather with USB charging and "
         "zero-wall design.", "头层牛皮电动躺椅，带USB充电口，零靠墙设计，适合小户型客厅。"),
        ("TV cabinet with sintered stone top", "岩板电视柜", "Low TV cabinet with a 12 mm sintered stone top and "
         "push-to-open drawers.", "12毫米岩板台面，按压式反弹抽屉，极简轻奢风格。"),
    ],
    "Office furniture 办公家具": [
        ("Ergonomic mesh office chair", "人体工学网布办公椅", "Mesh back with adjustable lumbar support, 4D armrests, "
         "synchronous tilt; BIFMA tested.", "网布靠背，腰托可调，4D扶手，同步倾仰底盘，通过BIFMA检测。"),
        ("Electric height-adjustable desk", "电动升降办公桌", "Dual-motor standing desk, 62–127 cm, memory presets, "
         "anti-collision.", "双电机升降桌，高度62–127厘米，记忆按键，遇阻回退防夹。"),
        ("Open-plan workstation system", "开放式办公屏风工位", "Four-person workstation with acoustic fabric screens "
         "and cable trays.", "四人位办公工位，吸音布艺屏风，配走线槽。"),
        ("Executive conference table", "会议桌", "Conference table for 12 in oak veneer with built-in power and "
         "data boxes.", "橡木贴皮12人会议桌，内置电源及数据接口盒。"),
    ],
    "Outdoor 户外家具": [
        ("Teak garden dining set", "柚木花园餐桌椅套装", "Grade-A teak table with six stacking chairs, weather resistant "
         "without treatment.", "A级柚木餐桌配六把可叠放椅，免处理耐候。"),
        ("Aluminium rope lounge chair", "铝合金编绳休闲椅", "Powder-coated aluminium frame woven with olefin rope; "
         "quick-dry cushions.", "铝合金喷粉框架，奥丽芬编绳，速干坐垫，适合酒店泳池和庭院。"),
        ("Cantilever parasol", "罗马伞", "3 m cantilever parasol, 360° rotation, UPF 50+ solution-dyed fabric.",
         "3米侧立罗马伞，360度旋转，UPF50+原液染色面料。"),
    ],
    "Hotel 酒店家具": [
        ("Hotel guest room furniture package", "酒店客房家具套装", "Custom case goods for guest rooms: headboard, "
         "wardrobe, desk, luggage rack; fire-retardant materials.", "客房定制家具：床头背板、衣柜、书桌、行李架，"
         "采用阻燃材料，按项目图纸生产。"),
        ("Banquet stacking chair", "宴会叠椅", "Steel banquet chair stacking ten high, commercial-grade fabric.",
         "钢制宴会椅，可叠放10张，商用级面料。"),
        ("Lobby lounge sofa", "酒店大堂沙发", "Contract-grade lobby sofa, 100,000 Martindale rub test.",
         "工程级大堂沙发，面料耐磨10万次。"),
    ],
    "Bedding 床上用品": [
        ("Long-staple cotton duvet cover set", "长绒棉四件套", "Four-piece set in 100% long-staple cotton sateen, "
         "60s yarn, 400 thread count.", "100%长绒棉贡缎四件套，60支纱，400根密度。"),
        ("Down duvet", "白鹅绒被", "95% white goose down winter duvet, down-proof cotton shell.", "95%白鹅绒冬被，防钻绒全棉面料。"),
        ("Memory foam pillow", "记忆棉枕头", "Contour memory foam pillow with cooling gel layer.", "人体工学记忆棉枕，凝胶降温层。"),
    ],
    "Curtains 窗帘": [
        ("Blackout curtain fabric", "遮光窗帘布", "Triple-weave blackout fabric, 100% light blocking, thermal "
         "insulating.", "三层织造遮光布，遮光率100%，隔热保温。"),
        ("Motorised curtain track", "电动窗帘轨道", "Quiet motorised track with app and voice control, Zigbee.",
         "静音电动窗帘轨道，支持手机App和语音控制，Zigbee协议。"),
        ("Linen sheer curtain", "亚麻纱帘", "Linen-look sheer voile, flame-retardant version for hotels.",
         "仿亚麻纱帘，酒店工程可选阻燃款。"),
    ],
    "LED 照明": [
        ("LED panel light 600×600", "LED平板灯600×600", "40 W LED panel, 120 lm/W, flicker-free driver, UGR<19.",
         "40瓦LED平板灯，光效120流明/瓦，无频闪驱动，UGR<19。"),
        ("LED linear pendant", "LED线条吊灯", "Linkable aluminium linear pendant for offices, 4000 K, CRI>90.",
         "可拼接铝型材线条吊灯，4000K，显色指数>90，适合办公空间。"),
        ("LED downlight", "LED筒灯", "Anti-glare recessed downlight, 10 W, 3000/4000 K selectable.", "防眩光嵌入式筒灯，10瓦，色温3000/4000K可切换。"),
    ],
    "Smart lighting 智能照明": [
        ("Smart ceiling light", "智能吸顶灯", "Tunable-white ceiling light with app, voice and scene control.",
         "可调色温智能吸顶灯，支持App、语音及场景联动。"),
        ("Wireless lighting control system", "无线智能照明控制系统", "DALI and Bluetooth mesh gateway with sensors for "
         "offices and hotels.", "DALI及蓝牙Mesh网关，配人体感应器，适用于办公楼和酒店。"),
        ("Smart LED strip", "智能灯带", "RGBCW LED strip, Wi-Fi, music sync.", "RGBCW智能灯带，Wi-Fi控制，音乐律动。"),
    ],
    "Wood panels 板材": [
        ("E0 melamine particleboard", "E0级三聚氰胺刨花板", "Melamine-faced particleboard, E0 formaldehyde class, 200 "
         "decors.", "三聚氰胺饰面刨花板，E0级环保，200余种花色。"),
        ("Birch plywood", "桦木胶合板", "Full birch plywood for furniture, 18 mm, WBP glue.", "全桦木家具级胶合板，18毫米，耐候胶。"),
        ("MDF board", "中密度纤维板", "Moisture-resistant MDF for cabinets and doors.", "防潮中密度纤维板，用于橱柜和门板。"),
    ],
    "Hardware 五金配件": [
        ("Soft-close concealed hinge", "阻尼铰链", "Hydraulic soft-close hinge, 50,000 cycles, clip-on.",
         "液压阻尼铰链，开合测试5万次，快装式。"),
        ("Full-extension drawer slide", "全拉出抽屉滑轨", "Undermount full-extension slide with push-to-open, 35 kg.",
         "隐藏式全拉出滑轨，按压反弹，承重35公斤。"),
        ("Furniture handles", "家具拉手", "Zinc-alloy and aluminium handles in matte black and brushed brass.",
         "锌合金及铝合金拉手，哑光黑和拉丝黄铜色。"),
    ],
    "CNC machinery 数控设备": [
        ("CNC nesting machine", "数控开料机", "Nesting router for panel furniture with automatic loading and "
         "labelling.", "板式家具数控开料机，自动上料及贴标。"),
        ("Automatic edge banding machine", "全自动封边机", "Edge bander with pre-milling, corner rounding and PUR glue.",
         "全自动封边机，带预铣、修圆角及PUR热熔胶。"),
        ("Six-sided CNC drilling machine", "六面数控钻孔中心", "Six-sided drilling centre for cabinet production lines.",
         "六面钻孔中心，适用于定制橱柜生产线。"),
    ],
}


def contribute_products(world: DemoWorld) -> None:
    """Every company taking part gets two to four products from its categories, added over the last weeks."""
    from .models import Product

    seen = set()
    for edition in world.editions[::-1]:  # the live edition's categories first
        for exhibitor in world.exhibitors.get(edition.id, []):
            if exhibitor.company_id in seen:
                continue
            seen.add(exhibitor.company_id)
            pool = [(category, item) for category in exhibitor.categories for item in PRODUCTS.get(category.name, ())]
            for category, (name_en, name_zh, text_en, text_zh) in world.rng.sample(pool, k=min(len(pool),
                                                                                                world.rng.randint(2, 4))):
                created = world.now - timedelta(days=world.rng.randint(0, 60), minutes=world.rng.randint(0, 1440))
                # About one in three companies writes Chinese only or English only.
                language = world.rng.choices(("both", "zh", "en"), weights=(6, 2, 1))[0]
                db.session.add(Product(
                    organizer_id=world.organizer.id, company_id=exhibitor.company_id,
                    name_en=name_en if language != "zh" else "", name_zh=name_zh if language != "en" else "",
                    description_en=text_en if language != "zh" else "", description_zh=text_zh if language != "en" else "",
                    categories=[category], created_at=created, updated_at=created))
    db.session.flush()
