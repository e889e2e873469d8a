"""Benchmark: badges in bulk — N badges with Chinese names, each with its own signed code (core.badge_codes)
and QR code, into one PDF, the way the batch job draws them (expo.visitors.badges.write_badges_pdf).

    .venv/bin/python bench/badges.py [--badges 10000] [--format a6|a4-4|l7165|l7163] [--check 20]
    .venv/bin/python bench/badges.py --job [--badges 10000]   # end to end: database, batch job, PDF file

The first form times signing + drawing + writing the file from generated visitors (names from ~800 common
characters, so the font subset is as large as a real show's). ``--job`` first fills a fresh SQLite database
with ``expo bench-data`` (not timed), then times the batch job itself (visitors.badge_layouts.run_batch:
reading the registrations in chunks, signing, drawing, progress, audit). Both print wall time, CPU time,
peak memory (max RSS of the process) and the file size, then read back ``--check`` random pages with
zxing-cpp (when installed) and verify every code's signature. Results go to docs/benchmarks.md ("badges").
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Common characters of Chinese given names and surnames (a show's badges use several hundred distinct ones).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈姚卢欧阳司马上官诸葛"
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁晨欣悦琳"
         "子涵梓轩一诺依晨欣怡雨桐可馨思远俊杰浩然宇航梓萱紫涵诗涵梦琪忆柳之桃慕青问兰尔岚元香初夏沛菡傲珊曼文"
         "乐菱痴珊恨玉惜文香寒新柔语蓉海安夜蓉涵柏水桃醉蓝春儿语琴从彤傲晴语兰又菱碧彤元霜怜梦紫寒妙彤曼易南莲"
         "紫翠雨寒易烟如萱若南寻真晓亦向珊慕灵以蕊寻雁映易雪柳孤岚笑霜海云凝天沛珊寒云冰旋宛儿绿真盼儿晓霜碧凡"
         "夏菡曼香若烟半梦雅绿冰蓝灵槐平安书翠翠风香巧代云梦曼幼翠友巧听寒梦柏醉易访旋亦玉凌萱访卉怀亦笑蓝春翠"
         "靖柏夜蕾冰夏梦松书雪乐枫念薇靖雁寻春恨山从寒忆香觅波静曼凡旋以亦念露芷蕾千兰新波代真新蕾雁玉冷卉紫山"
         "千琴恨天傲芙盼山怀蝶冰兰山柏翠萱乐丹翠柔谷山之瑶冰露尔珍谷雪乐萱涵菡海莲傲蕾青槐冬儿易梦惜雪宛海之柔"
         "夏青亦瑶妙菡春竹痴梦紫蓝晓巧幻柏元风冰枫访蕊南春芷蕊凡蕾凡柔安蕾天荷含玉书兰雅琴书瑶春雁从安夏槐念芹"
         "德胜志国建军成龙金宝永康福禄寿喜顺发达富贵荣华")
CITIES = ["深圳", "广州", "佛山", "东莞", "上海", "杭州", "宁波", "成都", "青岛", "厦门", "苏州", "温州", "香港", "台北"]
TRADES = ["家具", "家居用品", "照明电器", "五金制品", "木业", "纺织品", "进出口贸易", "智能科技", "酒店用品", "建材"]
CATEGORIES = [("#1f5fbf", "BUYER / 买家"), ("#1e8a4c", "TRADE VISITOR / 专业观众"), ("#6b7280", "VISITOR / 观众"),
              ("#e06c00", "MEDIA / 媒体"), ("#b8860b", "VIP / 贵宾")]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_faces(count: int, seed: int = 7):
    """Generated visitors, signed one by one as the batch does (a generator: nothing is held)."""
    from expo.core import badge_codes
    from expo.visitors.badges import BadgeFace

    rng = random.Random(seed)
    signing_key, _verify = badge_codes.generate_keypair()
    edition_id = 3
    for number in range(1, count + 1):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        company = rng.choice(CITIES) + "".join(rng.choice(GIVEN) for _ in range(2)) + rng.choice(TRADES) + "有限公司"
        colour, label = rng.choice(CATEGORIES)
        yield BadgeFace(code=badge_codes.sign_badge(signing_key, edition_id, number, 1), name=name, company=company,
                        category_label=label, edition_name="深圳国际家具展 Shenzhen Furniture Fair 2026",
                        number=f"#{number}", colour=colour)


def check_pages(path: Path, pages: int, verify_key: bytes | None = None) -> str:
    """Decode `pages` random pages with zxing-cpp; every code must parse (and verify, given the key)."""
    try:
        import pypdfium2
        import zxingcpp
    except ImportError:
        return "not checked (zxing-cpp or pypdfium2 not installed)"
    from expo.core import badge_codes

    document = pypdfium2.PdfDocument(str(path))
    rng = random.Random(1)
    chosen = sorted(rng.sample(range(len(document)), k=min(pages, len(document))))
    codes = 0
    for index in chosen:
        image = document[index].render(scale=3).to_pil()
        for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            claim = badge_codes.read_badge(result.text)
            if verify_key is not None:
                assert badge_codes.signature_valid(claim, verify_key), claim
            codes += 1
    document.close()
    return f"{codes} codes read on {len(chosen)} random pages" + (", all signatures valid" if verify_key else "")


def run_render(args) -> None:
    from expo.visitors import badges

    out = Path(args.out or tempfile.mkstemp(suffix=".pdf")[1])
    marks = []
    started, cpu = time.perf_counter(), time.process_time()
    badges._fonts()  # parsing the font is part of the job: timed
    count = badges.write_badges_pdf(synthetic_faces(args.badges), str(out), args.format,
                                    progress=lambda done: marks.append((done, time.perf_counter() - started)),
                                    every=1000)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    drawn = next((t for done, t in marks if done == count), wall)
    print(f"badges: {count:,} in format {args.format} ({badges.FORMATS[args.format].per_page} per page)")
    print(f"wall: {wall:.1f} s (drawing done at {drawn:.1f} s, the rest is writing the file); cpu: {cpu:.1f} s; "
          f"{count / wall:,.0f} badges/s")
    print(f"peak memory (max RSS): {peak_mib():.0f} MiB; file: {out.stat().st_size / 2**20:.1f} MiB ({out})")
    if args.check:
        print("check:", check_pages(out, args.check))
    if not args.out:
        out.unlink()


def run_job(args) -> None:
    """End to end: a database with bench-data, then the batch job as the worker runs it."""
    tmp = Path(tempfile.mkdtemp(prefix="expo-bench-badges-"))
    env = {**os.environ, "EXPO_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}", "EXPO_INSTANCE_DIR": str(tmp)}
    t0 = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "expo"), "bench-data", "--visitors", str(args.badges),
                    "--exhibitors", "30", "--editions", "1"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    print(f"data: {args.badges:,} registrations made in {time.perf_counter() - t0:.0f} s (not timed)")
    os.environ.update(env)
    from sqlalchemy import select

    from expo import create_app
    from expo.core import jobs
    from expo.core.models import Edition, Job
    from expo.extensions import db
    from expo.visitors import badge_layouts

    app = create_app({"INSTANCE_DIR": tmp})
    with app.app_context():
        edition = db.session.scalar(select(Edition).where(Edition.status == "live"))
        job = jobs.create(badge_layouts.BATCH_KIND, organizer_id=edition.organizer_id, user_id=None,
                          edition_id=edition.id, params={"format": args.format, "filters": {}})
        db.session.commit()
        started, cpu = time.perf_counter(), time.process_time()
        count = badge_layouts.run_batch(job.id)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        path = jobs.file_path(job, badge_layouts.BATCH_FILE)
        print(f"job: {job.status}, {job.done:,}/{job.total:,}; badges: {count:,} in format {args.format}")
        print(f"wall: {wall:.1f} s; cpu: {cpu:.1f} s; {count / wall:,.0f} badges/s")
        print(f"peak memory (max RSS): {peak_mib():.0f} MiB; file: {path.stat().st_size / 2**20:.1f} MiB")
        if args.check:
            print("check:", check_pages(path, args.check, edition.verify_key))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=10_000)
    parser.add_argument("--format", default="a6")
    parser.add_argument("--check", type=int, default=20, help="random pages read back with zxing-cpp (0: none)")
    parser.add_argument("--out", help="keep the PDF at this path")
    parser.add_argument("--job", action="store_true", help="end to end through the database and the batch job")
    args = parser.parse_args()
    (run_job if args.job else run_render)(args)


if __name__ == "__main__":
    main()
