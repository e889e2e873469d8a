"""Benchmark: importing 100,000 person rows with dedupe (issue 7: ≤ 20 s on 2 cores, memory flat).

    .venv/bin/python bench/imports.py [--rows 100000] [--existing 20000] [--database-url URL]

Builds a fresh database (SQLite file in a temporary folder by default; with --database-url a PostgreSQL
database that is dropped and created again), an organizer with ``--existing`` persons, and a CSV file in
GB18030 of ``--rows`` synthetic persons — Chinese and English names, companies, emails, Chinese and
foreign phone numbers — of which ~10% are persons already there (same email, other case and spaces),
~2% share a known phone under another email (ambiguous), ~1% repeat an earlier row of the file and ~1%
are bad (no name, a broken email). Then it runs the import as the worker does (core.imports.run: streamed
reading, batches of 1,000 rows, one lookup query per batch, Core INSERTs, activities) and a second time
(the rerun must change nothing), and prints time, rows/s and the process's resident memory as the rows
go by (current RSS every 10,000 rows, and the peak) — a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英文华红玉兰建国志强海燕雪梅晓东丹丹婷婷鹏飞宇航子涵浩然一鸣欣怡思远"
FIRST = ["Anna", "Lukas", "Maria", "James", "Olivia", "Noah", "Emma", "Liam", "Sofia", "Mateo", "Chloé", "Hiroshi",
         "Yuki", "Priya", "Arjun", "Fatima", "Omar", "Elena", "Marco", "Ingrid", "Søren", "José", "Zoë", "Björn"]
LAST = ["Schmidt", "Müller", "Smith", "Johnson", "Garcia", "Rossi", "Dubois", "Tanaka", "Sato", "Kumar", "Patel",
        "Haddad", "Nielsen", "Kowalski", "Novak", "O'Brien", "van Dijk", "Silva", "Andersson", "Papadopoulos"]
CITIES = ["深圳", "广州", "佛山", "东莞", "上海", "杭州", "宁波", "厦门", "成都", "青岛"]
TRADES = ["家具", "家居", "木业", "办公设备", "五金", "灯饰", "软体家具", "红木", "装饰材料", "智能家居"]
FORMS = ["有限公司", "股份有限公司", "实业有限公司", "科技有限公司"]
FOREIGN = ["Nordic Furniture GmbH", "Casa Bella S.r.l.", "Oak & Co. Ltd", "Pacific Home Inc.", "Meubles Dupont SA",
           "Tokyo Interiors K.K.", "Delhi Crafts Pvt Ltd", "Atlas Office BV"]
TITLES = ["采购经理", "总经理", "设计师", "采购总监", "Buyer", "Purchasing Manager", "CEO", "Interior Designer"]


def synthetic_person(rng: random.Random, n: int) -> dict:
    if rng.random() < 0.7:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        company = rng.choice(CITIES) + rng.choice(["宏达", "金雅", "森林", "华星", "美居", "恒丰", "远航", "佳宜"]) \
            + rng.choice(TRADES) + rng.choice(FORMS)
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if rng.random() < 0.3:
            phone = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
        country = "CN"
        email = f"p{n}.{rng.choice(['qq', '163', 'sina', 'example'])}@example.cn"
    else:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name, company = f"{first} {last}", rng.choice(FOREIGN)
        country = rng.choice(["DE", "US", "GB", "FR", "IT", "JP", "IN"])
        phone = {"DE": "+49 30 {:07d}", "US": "+1 212 555 {:04d}", "GB": "+44 20 7946 {:04d}", "FR": "+33 1 42 {:06d}",
                 "IT": "+39 06 {:07d}", "JP": "+81 3 {:08d}", "IN": "+91 98{:08d}"}[country]
        phone = phone.format(rng.randrange(10 ** (phone.count("0") + 3)) % 10 ** 4 if "{:04d}" in phone
                             else rng.randrange(10**6))
        email = f"{first.lower()}.{n}@example.com".replace("é", "e").replace("ø", "o").replace("ö", "o").replace("ë", "e")
    return {"ref": f"SRC-{n:07d}", "name": name, "email": email, "phone": phone, "company": company,
            "title": rng.choice(TITLES), "country": country}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def trim_rss() -> float:
    """RSS after handing the C allocator's free memory back to the system (glibc malloc_trim): what is left
    is held, the rest was free memory the allocator kept."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return rss_mb()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL of a database to drop and recreate")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="expo-bench-imports-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    if args.database_url:
        from sqlalchemy import create_engine, text

        admin, name = url.rsplit("/", 1)
        engine = create_engine(admin + "/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        engine.dispose()
    os.environ.update({"EXPO_DATABASE_URL": url, "EXPO_INSTANCE_DIR": str(workdir), "EXPO_SECRET_KEY": "bench",
                       "EXPO_CELERY_EAGER": "1"})

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from expo import create_app
    from expo.core import imports
    from expo.core import services as core
    from expo.core.models import Activity
    from expo.extensions import db
    from expo.visitors.models import Person

    app = create_app()
    rng = random.Random(args.seed)
    with app.app_context():
        upgrade()
        organizer_id = core.create_organizer("Bench Fairs 展览").id
        existing = [synthetic_person(rng, 10_000_000 + n) for n in range(args.existing)]
        # the organizer's persons before the import, written as a first import (the same code path)
        seed_file = workdir / "existing.csv"
        write_csv(seed_file, existing, "utf-8")
        kind = imports.kind("persons")
        mapping = {"外部编号": "external_ref", "姓名": "name", "邮箱": "email", "手机": "phone", "公司": "company",
                   "职位": "job_title", "国家": "country"}
        db.session.commit()
        imports.run(kind, seed_file, mapping, imports.Context(organizer_id=organizer_id, user_id=None), write=True)
        rows = []
        for n in range(args.rows):
            roll = rng.random()
            if roll < 0.10:  # a person already there, written differently
                known = dict(rng.choice(existing))
                known["ref"] = f"SRC-{n:07d}"
                known["email"] = " " + known["email"].upper() + " "
                rows.append(known)
            elif roll < 0.12:  # a known phone under another email: ambiguous
                known = rng.choice(existing)
                rows.append({**synthetic_person(rng, n), "phone": known["phone"], "country": known["country"]})
            elif roll < 0.13 and rows:  # the file repeats one of its rows
                rows.append({**rng.choice(rows[-5000:]), "ref": f"SRC-{n:07d}"})
            elif roll < 0.14:  # bad: no name, or a broken email
                bad = synthetic_person(rng, n)
                bad["name" if rng.random() < 0.5 else "email"] = "" if rng.random() < 0.5 else "not-an-email"
                if bad["name"] == "not-an-email":
                    bad["name"] = ""
                rows.append(bad)
            else:
                rows.append(synthetic_person(rng, n))
        path = workdir / "persons.csv"
        write_csv(path, rows, "gb18030")
        del rows, existing
        size = path.stat().st_size / 2**20
        persons_before = db.session.scalar(select(func.count()).select_from(Person))
        db.session.commit()
        db.session.expunge_all()

        results, trimmed = [], []
        for label in ("first run", "rerun"):
            samples = []

            def progress(done, errors):
                if done % 10_000 == 0:
                    samples.append(rss_mb())

            start_rss = rss_mb()
            started = time.perf_counter()
            report = imports.run(kind, path, mapping, imports.Context(organizer_id=organizer_id, user_id=None),
                                 write=True, error_path=workdir / f"errors-{label}.csv", progress=progress)
            seconds = time.perf_counter() - started
            results.append((label, report.counts, seconds, start_rss, samples, peak_mb()))
            trimmed.append(trim_rss())
        persons_after = db.session.scalar(select(func.count()).select_from(Person))
        activities = db.session.scalar(select(func.count()).select_from(Activity))

    database = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    print(f"\nfile: {args.rows:,} rows, {size:.1f} MB GB18030 CSV; {args.existing:,} persons before; {database}; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n")
    print("| run | rows | new | matched | ambiguous | bad | time | rows/s | RSS at start → every 10k rows | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for label, counts, seconds, start_rss, samples, peak in results:
        trail = " ".join(f"{s:.0f}" for s in samples[::2])
        print(f"| {label} | {counts['rows']:,} | {counts['new']:,} | {counts['matched']:,} | {counts['ambiguous']:,} | "
              f"{counts['bad']:,} | {seconds:.1f} s | {counts['rows'] / seconds:,.0f} | {start_rss:.0f} → {trail} MB | "
              f"{peak:.0f} MB |")
    print(f"\nRSS after each run once the C allocator returned its free memory (malloc_trim): "
          f"{', '.join(f'{t:.0f} MB' for t in trimmed)}")
    print(f"persons: {persons_before:,} before, {persons_after:,} after; activities: {activities:,}; "
          f"rows written on the rerun: {results[1][1]['written']}")


def write_csv(path: Path, rows: list[dict], encoding: str) -> None:
    import csv

    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["外部编号", "姓名", "邮箱", "手机", "公司", "职位", "国家"])
        for r in rows:
            writer.writerow([r["ref"], r["name"], r["email"], r["phone"], r["company"], r["title"], r["country"]])


if __name__ == "__main__":
    main()
