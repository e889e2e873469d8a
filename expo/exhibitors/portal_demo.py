"""The demo's portal part (issue 8): company logos (initials on a colour, drawn with Pillow), Chinese names and
descriptions for the profiles, and pictures for part of the catalogue. Everything goes through the portal's
services, as an upload would: the images are checked, re-drawn and resized like any other."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from ..extensions import db
from . import portal
from .models import CompanyProfile, Product

COLOURS = ((13, 110, 253), (25, 135, 84), (220, 53, 69), (111, 66, 193), (253, 126, 20), (32, 201, 151),
           (214, 51, 132), (13, 202, 240), (52, 58, 64), (102, 16, 242))
# A CJK face if the machine has one (for Chinese initials); the built-in face otherwise (Latin initials only).
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/System/Library/Fonts/PingFang.ttc")
LOGO_SHARE = 0.85  # companies with a logo
PICTURE_SHARE = 0.4  # products with pictures (all of the demo exhibitor's)


def _font(size: int, cjk: bool):
    if cjk:
        for path in CJK_FONTS:
            if Path(path).is_file():
                try:
                    return ImageFont.truetype(path, size)
                except OSError:
                    continue
        return None
    return ImageFont.load_default(size)


def initials(name: str) -> tuple[str, bool]:
    """Two letters for a Latin name ("Hongda Furniture" → "HF"), the first two characters of a Chinese one."""
    cjk = [c for c in name if ord(c) > 0x2E80]
    if cjk:
        return "".join(cjk[:2]), True
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha()]
    letters = "".join(w[0] for w in words[:2]).upper() or name[:2].upper()
    return letters, False


def logo_png(name: str, colour: tuple[int, int, int], size: int = 256) -> bytes:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=colour)
    text, cjk = initials(name)
    font = _font(size // 3 if cjk else size * 2 // 5, cjk)
    if font is None:  # Chinese initials without a Chinese face: a plain emblem instead
        draw.ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), outline=(255, 255, 255), width=size // 14)
    else:
        draw.text((size / 2, size / 2), text, fill=(255, 255, 255), font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def picture_jpeg(label: str, colour: tuple[int, int, int], variant: int) -> bytes:
    """A product "photo": a light backdrop, a shape in the company's colour, the product's name."""
    width, height = 640, 480
    image = Image.new("RGB", (width, height), tuple(235 - (variant % 5) * 6 for _ in range(3)))
    draw = ImageDraw.Draw(image)
    box = (170, 90, 470, 350)
    if variant % 3 == 0:
        draw.rounded_rectangle(box, radius=32, fill=colour)
    elif variant % 3 == 1:
        draw.ellipse(box, fill=colour)
    else:
        draw.polygon(((320, 80), (490, 360), (150, 360)), fill=colour)
    draw.rectangle((0, 400, width, height), fill=(255, 255, 255))
    text = "".join(c for c in label if ord(c) < 0x2E80).strip()[:36]
    if text:
        draw.text((width / 2, 440), text, fill=(33, 37, 41), font=ImageFont.load_default(26), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def contribute(world) -> None:
    rng = world.rng
    exhibitors, seen = [], set()
    for edition in world.editions[::-1]:  # the live edition first
        for exhibitor in world.exhibitors.get(edition.id, []):
            if exhibitor.company_id not in seen:
                seen.add(exhibitor.company_id)
                exhibitors.append(exhibitor)
    if not exhibitors:
        return
    demo = world.exhibitors.get(world.live.id, [None])[0]
    for number, exhibitor in enumerate(exhibitors):
        colour = COLOURS[number % len(COLOURS)]
        company = exhibitor.company
        if exhibitor is demo or rng.random() < LOGO_SHARE:
            portal.set_logo(exhibitor, logo_png(company.name, colour), "logo.png").updated_at = world.now
        chinese_name = company.name if any(ord(c) > 0x2E80 for c in company.name) else ""
        if chinese_name or exhibitor is demo or rng.random() < 0.5:
            profile = db.session.scalar(select(CompanyProfile).where(CompanyProfile.company_id == company.id))
            if profile is None:
                profile = CompanyProfile(organizer_id=company.organizer_id, company_id=company.id, name_zh="",
                                         description_zh="", updated_at=world.now)
                db.session.add(profile)
            profile.name_zh = chinese_name
            profile.description_zh = "专业参展商，欢迎莅临展位洽谈合作。"
            if not company.description:
                company.description = "An exhibitor of the show: visit our booth to talk business."
        products = db.session.scalars(select(Product).where(Product.company_id == company.id,
                                                            Product.deleted_at.is_(None)).order_by(Product.id))
        for variant, product in enumerate(products):
            if exhibitor is demo or rng.random() < PICTURE_SHARE:
                for shot in range(1 if exhibitor is not demo else 2):
                    row = portal.add_picture(exhibitor, product,
                                             picture_jpeg(product.name("en"), colour, variant + shot), "photo.jpg")
                    row.created_at = product.updated_at = world.now
    db.session.flush()
