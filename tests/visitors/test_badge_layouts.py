"""Badge layouts: a colour band and a bilingual label per visitor category and edition, defaults for every
category, validation of hostile input, the staff page and its preview, and the desk badge drawn with it."""
import io

import pypdfium2
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.visitors import badge_layouts, badges
from expo.visitors.models import VISITOR_CATEGORIES, BadgeLayout

from ..conftest import Browser


# --- defaults and validation -------------------------------------------------------------------------

def test_every_category_has_a_default_layout_so_nothing_breaks_unset(make):
    edition = make.edition()
    db.session.commit()

    layouts = badge_layouts.layouts_for(edition)

    assert set(layouts) == set(VISITOR_CATEGORIES)
    for category, layout in layouts.items():
        assert not layout.custom
        assert badge_layouts.clean_colour(layout.colour) == layout.colour
        assert layout.label_en and layout.label_zh, category
        assert " / " in layout.printed_label
    assert layouts["buyer"].printed_label == "BUYER / 买家"
    # the colours tell the categories apart
    assert len({layout.colour for layout in layouts.values()}) == len(layouts)


@pytest.mark.parametrize("text, colour", [("#1F5FBF", "#1f5fbf"), ("1f5fbf", "#1f5fbf"), ("#abc", "#aabbcc"),
                                          ("  #00ff00 ", "#00ff00")])
def test_colour_is_normalised(text, colour):
    assert badge_layouts.clean_colour(text) == colour


@pytest.mark.parametrize("text", ["", "red", "#12345g", "#1234567", "#12345", "\x00", "#1f5f\x00bf", "#1f5fbf\x00",
                                  "rgb(1,2,3)", "#ＦＦＦＦＦＦ", "#" + "f" * 10_000, None, 123456, ["#123456"]])
def test_bad_colours_are_refused_with_a_clear_message(text):
    with pytest.raises(ServiceError) as error:
        badge_layouts.clean_colour(text)
    assert error.value.field == "colour"
    assert "#" in str(error.value)


@pytest.mark.parametrize("text", ["BUY\x00ER", "VIP\x07", "A\u2028B", "x\x9b", "\ufffe"])
def test_labels_with_control_characters_are_refused(text):
    with pytest.raises(ServiceError) as error:
        badge_layouts.clean_label(text, "label_en")
    assert error.value.field == "label_en"


def test_labels_are_one_line_of_at_most_40_characters():
    assert badge_layouts.clean_label("  VIP \t guest \n ", "label_en") == "VIP guest"
    assert badge_layouts.clean_label("贵宾" * 20, "label_zh") == "贵宾" * 20
    with pytest.raises(ServiceError):
        badge_layouts.clean_label("x" * 41, "label_en")


def test_save_layout_refuses_an_unknown_category_and_two_empty_labels(make):
    edition = make.edition()
    db.session.commit()
    scope = Scope(edition.organizer_id)
    with pytest.raises(ServiceError):
        badge_layouts.save_layout(scope, edition, "alien", colour="#123456", label_en="X", label_zh="", actor_id=None)
    with pytest.raises(ServiceError) as error:
        badge_layouts.save_layout(scope, edition, "vip", colour="#123456", label_en=" ", label_zh="", actor_id=None)
    assert error.value.field == "label_en"


# --- the staff page --------------------------------------------------------------------------------

def _page(edition):
    return f"/org/editions/{edition.id}/badges"


def test_manager_saves_a_layout_audited_and_the_desk_badge_prints_with_it(app, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    manager = make.user("manager", organizer)
    db.session.commit()
    browser = Browser(app, manager)
    registration = make.registration(edition, category="vip", name="王小明")
    db.session.commit()

    page = browser.get(_page(edition))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for category in VISITOR_CATEGORIES:
        assert f'id="layout-{category}"' in html
    assert "贵宾" in html  # the default Chinese label is shown

    response = browser.post(_page(edition), data={"category": "vip", "colour": "#C8102E", "label_en": "VIP GUEST",
                                                  "label_zh": "贵宾嘉宾"})
    assert response.status_code == 302
    row = db.session.scalar(select(BadgeLayout).where(BadgeLayout.edition_id == edition.id))
    assert (row.category, row.colour, row.label_en, row.label_zh) == ("vip", "#c8102e", "VIP GUEST", "贵宾嘉宾")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge_layout.changed"))
    assert entry.user_id == manager.id and entry.details["colour"] == "#c8102e"

    pdf = browser.get(f"/org/editions/{edition.id}/registrations/{registration.id}/badge.pdf")
    assert pdf.status_code == 200
    assert "VIP GUEST / 贵宾嘉宾" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    image = pypdfium2.PdfDocument(pdf.data)[0].render(scale=1).to_pil().convert("RGB")
    # the band (the bottom 20 mm of the A6 page) is the layout's colour
    assert image.getpixel((5, image.height - 5)) == (0xC8, 0x10, 0x2E)

    # back to the defaults: the row goes, the badge prints the default band again
    assert browser.post(_page(edition), data={"category": "vip", "action": "reset"}).status_code == 302
    assert db.session.scalar(select(BadgeLayout).where(BadgeLayout.edition_id == edition.id)) is None
    pdf = browser.get(f"/org/editions/{edition.id}/registrations/{registration.id}/badge.pdf")
    assert "VIP / 贵宾" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


@pytest.mark.parametrize("form, field", [
    ({"colour": "\x00", "label_en": "X", "label_zh": ""}, "colour"),
    ({"colour": "#zzzzzz", "label_en": "X", "label_zh": ""}, "colour"),
    ({"colour": "#123456", "label_en": "BUY\x00ER", "label_zh": ""}, "label_en"),
    ({"colour": "#123456", "label_en": "", "label_zh": "买\x00家"}, "label_zh"),
    ({"colour": "#123456", "label_en": "x" * 5000, "label_zh": ""}, "label_en"),
])
def test_hostile_layout_input_is_shown_next_to_the_field_and_stores_nothing(app, make, form, field):
    organizer = make.organizer()
    edition = make.edition(organizer)
    owner = make.user("owner", organizer)
    db.session.commit()
    browser = Browser(app, owner)

    response = browser.post(_page(edition), data={"category": "buyer", **form})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is-invalid" in html and "\x00" not in html
    assert db.session.scalar(select(BadgeLayout)) is None


def test_unknown_category_is_refused_without_a_500(app, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    owner = make.user("owner", organizer)
    db.session.commit()
    browser = Browser(app, owner)

    response = browser.post(_page(edition), data={"category": "\x00alien", "colour": "#123456", "label_en": "X"})

    assert response.status_code == 302
    assert db.session.scalar(select(BadgeLayout)) is None


def test_preview_is_a_picture_of_the_layout(app, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    owner = make.user("owner", organizer)
    db.session.commit()
    badge_layouts.save_layout(Scope(edition.organizer_id), edition, "media", colour="#00aa00", label_en="PRESS",
                              label_zh="媒体", actor_id=None)
    db.session.commit()
    browser = Browser(app, owner)

    response = browser.get(f"/org/editions/{edition.id}/badges/preview.png?category=media")

    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert image.getpixel((4, image.height - 4)) == (0x00, 0xAA, 0x00)
    # garbage in the query string falls back to a category, never a 500 (a NUL byte is refused app-wide)
    assert browser.get(f"/org/editions/{edition.id}/badges/preview.png?category=alien&lang=xx").status_code == 200
    assert browser.get(f"/org/editions/{edition.id}/badges/preview.png?category=%00").status_code == 400


def test_band_text_is_dark_on_light_colours_and_white_on_dark_ones():
    assert badges._ink_on(badges._rgb("#ffff66")) != (1, 1, 1)
    assert badges._ink_on(badges._rgb("#1f5fbf")) == (1, 1, 1)


def test_desk_prints_one_badge_on_a_label_sheet_when_asked(app, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    onsite = make.user("onsite", organizer)
    registration = make.registration(edition, name="李静")
    db.session.commit()
    browser = Browser(app, onsite)
    url = f"/org/editions/{edition.id}/registrations/{registration.id}/badge.pdf"

    sheet = browser.get(url + "?format=l7163")
    page = pypdfium2.PdfDocument(sheet.data)[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4
    assert "李静" in PdfReader(io.BytesIO(sheet.data)).pages[0].extract_text()
    # an unknown format prints the A6 badge rather than failing
    a6 = pypdfium2.PdfDocument(browser.get(url + "?format=%3Cscript%3E").data)[0]
    assert (round(a6.get_size()[0]), round(a6.get_size()[1])) == (298, 420)


def test_previews_render_side_by_side_in_threads(app, make):
    """The layouts page loads one preview per category at once; a threaded server renders them in parallel.
    PDFium is not thread-safe, and a PIL picture of its bitmap must not outlive the document: this crashed the
    process (a segmentation fault) before the lock and the copy."""
    from concurrent.futures import ThreadPoolExecutor

    edition = make.edition()
    db.session.commit()
    layouts = badge_layouts.layouts_for(edition)
    categories = list(layouts) * 4
    from types import SimpleNamespace

    # what preview_png reads of the edition, without a database session per thread
    frozen = SimpleNamespace(id=edition.id, signing_key=edition.signing_key, name=edition.name)

    def render(category):
        with app.app_context():
            return badge_layouts.preview_png(frozen, layouts[category])

    with ThreadPoolExecutor(max_workers=8) as pool:
        pictures = list(pool.map(render, categories))
    for picture, category in zip(pictures, categories):
        image = Image.open(io.BytesIO(picture)).convert("RGB")
        colour = layouts[category].colour.lstrip("#")
        assert image.getpixel((4, image.height - 4)) == tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4)), category
