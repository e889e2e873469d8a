"""Badges in every print format, read back with a real QR decoder (zxing-cpp): every badge on a sheet decodes
to the signed code of its own registration, in the sheet's order; Chinese names are drawn with embedded
glyphs; the batch PDF of a filtered registrations list is a background job with progress, audited."""
from __future__ import annotations

import io
import re

import numpy as np
import pypdfium2
import pytest
import qrcode
import zxingcpp
from pypdf import PdfReader
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.units import mm
from sqlalchemy import select

from expo.core import badge_codes
from expo.core.models import AuditEntry, Job
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import badge_layouts, badges
from expo.visitors.listing import RegistrationFilters
from expo.visitors.models import Registration

from ..conftest import Browser

SCALE = 4  # 288 dpi: what a phone camera sees of a printed badge, roughly

CJK_NAMES = ["王小明", "李四光", "张伟", "欧阳娜娜", "陈晓东", "刘洋", "赵丽颖", "孙悟空", "周杰", "吴敏", "郑成功",
             "黄晓明", "林志玲", "何炅", "马云飞", "高圆圆"]


def decode_page(page) -> list[tuple[str, float, float]]:
    """Every QR code on the page: (text, x, y) of its centre in page points from the top left."""
    image = page.render(scale=SCALE).to_pil()
    found = []
    for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        p = result.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        x, y = sum(xs) / 4 / SCALE, sum(ys) / 4 / SCALE
        # zxing-cpp now and then reports one symbol twice (two finder-pattern fits a module apart): the same
        # text centred within a few points is one printed code, not two
        if not any(t == result.text and abs(x - fx) < 6 and abs(y - fy) < 6 for t, fx, fy in found):
            found.append((result.text, x, y))
    return found


def _cell_of(fmt: badges.BadgeFormat, x: float, y: float) -> int:
    """Which badge of the page (row by row) the point (top-left origin, points) lies in."""
    col = int((x / mm - fmt.left) // fmt.pitch_x)
    row = int((y / mm - fmt.top) // fmt.pitch_y)
    return row * fmt.columns + col


def _registrations(make, count=16, edition=None):
    edition = edition or make.edition(name="深圳国际家具展 2026")
    regs = [make.registration(edition, name=CJK_NAMES[i % len(CJK_NAMES)], company="深圳宏达家具有限公司",
                              category=("buyer", "media", "vip", "trade_visitor")[i % 4]) for i in range(count)]
    db.session.commit()
    return edition, regs


@pytest.mark.parametrize("fmt", list(badges.FORMATS))
def test_every_badge_of_every_format_decodes_to_its_own_registration(make, fmt):
    edition, regs = _registrations(make, 16)
    layouts = badge_layouts.layouts_for(edition)
    faces = [badge_layouts.face_for(r, layouts[r.category]) for r in regs]
    layout = badges.FORMATS[fmt]

    data = badges.badges_pdf(faces, fmt)

    document = pypdfium2.PdfDocument(data)
    assert len(document) == -(-len(regs) // layout.per_page)
    reader = PdfReader(io.BytesIO(data))
    for page_index, page in enumerate(document):
        expected = regs[page_index * layout.per_page:(page_index + 1) * layout.per_page]
        found = decode_page(page)
        assert len(found) == len(expected), f"{fmt} page {page_index + 1}: {len(found)} of {len(expected)} read"
        for text, x, y in found:
            claim = badge_codes.read_badge(text)
            assert badge_codes.signature_valid(claim, edition.verify_key)
            registration = expected[_cell_of(layout, x, y)]  # the code sits on its own registration's badge
            assert (claim.edition_id, claim.registration_id, claim.serial) == (edition.id, registration.id, 1)
        text = reader.pages[page_index].extract_text()
        for registration in expected:
            assert registration.visitor_name in text and f"#{registration.id}" in text
            assert layouts[registration.category].printed_label in text
    document.close()


@pytest.mark.parametrize("texts", [
    [badge_codes.sign_badge(badge_codes.generate_keypair()[0], 7, n, serial) for n in (1, 2, 99, 2**31 - 1)
     for serial in (1, 3)],
    ["HELLO WORLD", "A", "12345", "lower case and 中文", "X" * 300],  # not badge codes: the general encoder
])
def test_our_qr_encoder_builds_exactly_what_qrcode_builds_for_every_mask(texts):
    """The fast encoder (expo.visitors.badges.qr_candidates) against the reference library, module for
    module, under each of the eight masks; and the mask drawn is one of lowest penalty."""
    for text in texts:
        candidates = badges.qr_candidates(text)
        for mask in range(8):
            q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask)
            q.add_data(text)
            q.make(fit=True)
            assert np.array_equal(np.array(q.modules, dtype=bool), candidates[mask]), (text, mask)
        scores = badges._penalties(candidates)
        chosen = next(m for m in range(8) if np.array_equal(candidates[m], badges.qr_matrix(text)))
        assert scores[chosen] == scores.min()


def test_label_sheet_embeds_the_chinese_glyphs(make):
    edition, regs = _registrations(make, 3)
    layouts = badge_layouts.layouts_for(edition)
    data = badges.badges_pdf([badge_layouts.face_for(r, layouts[r.category]) for r in regs], "l7163")

    reader = PdfReader(io.BytesIO(data))
    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    descendants = [d.get_object() for font in fonts for d in font.get("/DescendantFonts", [])]
    embedded = [f for f in fonts + descendants
                if "/FontDescriptor" in f and "/FontFile2" in f["/FontDescriptor"].get_object()]
    assert embedded and all(str(f["/BaseFont"]).lstrip("/")[6:7] == "+" for f in embedded)
    text = reader.pages[0].extract_text()
    assert "王小明" in text and "深圳国际家具展 2026" in text


def test_long_names_are_shrunk_or_cut_never_drawn_past_the_label(make):
    edition, [registration] = _registrations(make, 1)
    face = badges.BadgeFace(code=badges.badge_code(registration), name="Maximilian Alexander " * 6,
                            company="A Very Long Company Name International Holdings Limited " * 3,
                            category_label="TRADE VISITOR / 专业观众", edition_name="深圳国际家具展 2026",
                            number="#1", colour="#ffff66")
    data = badges.badges_pdf([face], "l7163")
    [(text, _x, _y)] = decode_page(pypdfium2.PdfDocument(data)[0])  # the code is still readable beside it
    assert text == face.code
    assert "…" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_progress_is_reported_while_drawing():
    signing, _verify = badge_codes.generate_keypair()
    faces = (badges.BadgeFace(code=badge_codes.sign_badge(signing, 1, i, 1), name=f"访客{i}", company="",
                              category_label="BUYER / 买家", edition_name="Expo", number=f"#{i}") for i in range(7))
    seen = []
    count = badges.write_badges_pdf(faces, io.BytesIO(), "l7165", progress=seen.append, every=2)
    assert count == 7 and seen == [2, 4, 6, 7]


# --- the batch job -----------------------------------------------------------------------------------

def _staff(make, edition, role="onsite"):
    from expo.core.models import Organizer

    user = make.user(role, db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    return user


def test_batch_pdf_of_a_filtered_list_is_a_job_with_progress_and_the_right_badges(app, make):
    edition, regs = _registrations(make, 12)  # buyer, media, vip, trade_visitor, buyer, ...
    buyers = [r for r in regs if r.category == "buyer"]
    cancelled = buyers.pop()
    cancelled.status = "cancelled"  # a cancelled buyer gets no badge
    db.session.commit()
    staff = _staff(make, edition)
    browser = Browser(app, staff)
    listing = browser.get(f"/org/editions/{edition.id}/registrations?category=buyer&sort=number")
    # the list's button prints what the list shows: its form posts to the batch with the list's query string
    assert (f'action="/org/editions/{edition.id}/registrations/badges?category=buyer&amp;sort=number"'
            in listing.get_data(as_text=True))

    response = browser.post(f"/org/editions/{edition.id}/registrations/badges?category=buyer&sort=number",
                            data={"format": "l7163"})

    assert response.status_code == 302
    job_id = int(re.search(r"/org/jobs/(\d+)$", response.headers["Location"]).group(1))
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.kind, job.status, job.done, job.total) == ("badges", "done", len(buyers), len(buyers))
    assert job.params["filters"]["category"] == ["buyer"] and job.params["format"] == "l7163"
    status = browser.get(f"/org/jobs/{job_id}.json").get_json()
    assert status["percent"] == 100 and status["files"] == ["badges.pdf"] and status["result"]["count"] == len(buyers)
    page = browser.get(f"/org/jobs/{job_id}").get_data(as_text=True)
    assert "badges.pdf" in page

    pdf = browser.get(status["file_urls"]["badges.pdf"])
    assert pdf.status_code == 200
    document = pypdfium2.PdfDocument(pdf.data)
    assert len(document) == 1  # up to 14 labels on one sheet
    ids = sorted(badge_codes.read_badge(text).registration_id for text, _x, _y in decode_page(document[0]))
    assert ids == sorted(r.id for r in buyers)

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge.printed"))
    assert entry.user_id == staff.id and entry.object_type == "editions" and entry.object_id == edition.id
    assert entry.details["count"] == len(buyers) and entry.details["filters"] == {"category": ["buyer"]}
    # every printed visitor's timeline says so; the others' do not
    from expo.core.models import Activity

    printed = set(db.session.scalars(select(Activity.object_id).where(Activity.kind == "badge.printed")))
    assert printed == {r.id for r in buyers}


def test_batch_pdf_of_a_whole_edition_in_a6_has_a_page_per_confirmed_registration(app, make):
    edition, regs = _registrations(make, 5)
    staff = _staff(make, edition, "manager")

    response = Browser(app, staff).post(f"/org/editions/{edition.id}/registrations/badges", data={"format": "a6"})

    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.expire_all()
    from expo.core import jobs

    path = jobs.file_path(db.session.get(Job, job_id), "badges.pdf")
    assert len(pypdfium2.PdfDocument(path.read_bytes())) == 5


def test_batch_of_an_empty_list_or_an_unknown_format_starts_nothing(app, make):
    edition, regs = _registrations(make, 2)
    browser = Browser(app, _staff(make, edition))

    for query, data in (("?category=speaker", {"format": "a6"}), ("", {"format": "\x00"}), ("", {})):
        response = browser.post(f"/org/editions/{edition.id}/registrations/badges{query}", data=data)
        assert response.status_code in (302, 400)
    assert db.session.scalar(select(Job)) is None


def test_batch_faces_follow_the_list_filters_and_order(make):
    edition, regs = _registrations(make, 8)
    scope = Scope(edition.organizer_id)
    filters = RegistrationFilters(category=["media", "vip"], sort="-number")

    faces = list(badge_layouts.batch_faces(scope, edition, filters))

    expected = sorted((r for r in regs if r.category in ("media", "vip")), key=lambda r: -r.id)
    assert [f.number for f in faces] == [f"#{r.id}" for r in expected]
    assert {f.category_label for f in faces} == {"MEDIA / 媒体", "VIP / 贵宾"}
    assert badge_layouts.batch_count(scope, edition, filters) == len(expected)
    assert db.session.scalar(select(Registration).where(Registration.id == expected[0].id)) is not None


# --- pictures for the user guide (EXPO_SCREENSHOTS=docs/screenshots) ------------------------------------

def test_badge_pictures_for_the_user_guide(make, shots):
    """An A6 badge with its colour band and a sheet of L7163 labels, rasterised as a printer would print them:
    the pictures in the user guide, and a look at what visitors wear."""
    from expo.core.models import Organizer

    organizer = make.organizer("Shenzhen Expo Co.")
    edition = make.edition(organizer, name="深圳国际家具展 Shenzhen Furniture Fair 2026")
    people = [("王小明", "深圳宏达家具有限公司", "vip"), ("Sophie Dubois", "Maison Dubois SARL", "buyer"),
              ("李静", "广州美居家居有限公司", "buyer"), ("Kenji Tanaka", "Tanaka Interior K.K.", "trade_visitor"),
              ("陈晓东", "南方都市报", "media"), ("欧阳娜娜", "杭州云家科技有限公司", "buyer"),
              ("James O'Brien", "Northwind Office Furniture Ltd.", "trade_visitor"), ("刘洋", "", "public"),
              ("Priya Patel", "Patel Hospitality Group", "vip"), ("张伟", "佛山木业集团", "exhibitor_staff"),
              ("赵丽", "成都家居设计研究院", "speaker"), ("Lucas Silva", "Casa Silva Ltda.", "buyer"),
              ("孙悟空", "花果山贸易有限公司", "buyer"), ("Emma Larsen", "Nordic Living ApS", "media")]
    titles = ["采购总监", "Head of Buying", "采购经理", "Interior Architect", "记者", "产品经理", "Sales Director", "",
              "General Manager", "销售代表", "首席设计师", "Owner", "总经理", "Editor"]
    regs = [make.registration(edition, name=name, company=company, category=category, job_title=title)
            for (name, company, category), title in zip(people, titles)]
    db.session.commit()
    assert db.session.get(Organizer, organizer.id)
    layouts = badge_layouts.layouts_for(edition)
    faces = [badge_layouts.face_for(r, layouts[r.category]) for r in regs]

    a6 = pypdfium2.PdfDocument(badges.badges_pdf(faces[:1], "a6"))
    a6[0].render(scale=3).to_pil().save(shots / "badge-a6.png")
    sheet = pypdfium2.PdfDocument(badges.badges_pdf(faces, "l7163"))
    sheet[0].render(scale=1.6).to_pil().save(shots / "badge-label-sheet.png")
    a6.close()
    sheet.close()
    assert (shots / "badge-a6.png").stat().st_size > 10_000
