"""The Simplified Chinese catalogue: complete, fully translated, placeholders intact, and used by the pages.

Where the catalogue lives: the app selects the locale "zh_CN", Flask-Babel turns it into
Locale.parse("zh_CN"), whose name is zh_Hans_CN (Babel adds the script), and looks the catalogue up under
that name (or its fallback "zh"): a catalogue in zh_CN/ is never found. Hence expo/translations/zh_Hans_CN/.

The compiled catalogue (.mo) is not in git (`make translations` builds it). So that this module also works
on a fresh clone, it compiles any catalogue whose .mo is missing or older than its .po, at import time:
pytest imports every test module while collecting, before the first test of the session makes a request,
so no request of any test can load (and Flask-Babel cache for the whole process) a missing catalogue.
The `fresh_translations` fixture compiles again and empties Flask-Babel's cache, for runs where the
catalogue changed after collection.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from babel import Locale
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from expo.extensions import db

from .conftest import TRANSLATIONS, compile_catalogues

ROOT = Path(__file__).resolve().parent.parent
CHINESE = str(Locale.parse("zh_CN"))  # "zh_Hans_CN": the folder Flask-Babel reads for the app's "zh_CN"
PO_FILE = TRANSLATIONS / CHINESE / "LC_MESSAGES" / "messages.po"
# The keywords of `make extract`: babel's defaults (_, gettext, ngettext, ...) plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# A printf-style conversion: %(name)s, %d, %.1f ... (%% is a literal percent sign, not a placeholder).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")

compile_catalogues()


def read_catalog():
    with PO_FILE.open("rb") as f:
        return read_po(f, locale=CHINESE)


def _key(message_id, context=None):
    return context, message_id if isinstance(message_id, str) else message_id[0]


def _placeholders(text: str) -> Counter:
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


def _forms(message) -> list[str]:
    return list(message) if isinstance(message, (tuple, list)) else [message]



# --- the catalogue --------------------------------------------------------------------------------

def test_catalogue_exists_where_flask_babel_looks():
    assert PO_FILE.is_file(), f"{PO_FILE} is missing: run `make extract` and translate"
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert found == [CHINESE], f"expected only {CHINESE}/ (Flask-Babel never reads zh_CN/), found {found}"


def test_every_message_is_translated_and_none_is_fuzzy():
    catalog = read_catalog()
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.fuzzy:
            fuzzy.append(message.id)
        if not all(form.strip() for form in _forms(message.string)):
            untranslated.append(message.id)
    assert not untranslated, f"untranslated messages in {PO_FILE.name}: {untranslated}"
    assert not fuzzy, f"fuzzy messages (check the translation, then remove the fuzzy flag): {fuzzy}"
    assert len([m for m in catalog if m.id]) > 100


def test_catalogue_contains_every_message_of_the_sources():
    """A string newly wrapped in _() / _l() / {{ _() }} without a translation fails here: run `make extract`."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename="babel.cfg")
    extracted = {}
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map,
                                                                          keywords=KEYWORDS):
        extracted.setdefault(_key(message, context), f"{filename}:{lineno}")
    assert any(where.startswith("templates") for where in extracted.values()), "no template strings extracted"
    assert any(where.startswith("expo") for where in extracted.values()), "no Python strings extracted"
    known = {_key(m.id, m.context) for m in read_catalog() if m.id}
    missing = sorted(f"{where}: {key[1]!r}" for key, where in extracted.items() if key not in known)
    assert not missing, "messages missing from the catalogue (run `make extract`, then translate):\n" + \
        "\n".join(missing)


def test_placeholders_are_kept_in_translations():
    wrong = []
    for message in read_catalog():
        if not message.id:
            continue
        wanted = _placeholders(_forms(message.id)[0])
        for form in _forms(message.string):
            if form and _placeholders(form) != wanted:
                wrong.append((message.id, form))
            if message.python_format and "%" in PLACEHOLDER.sub("", form):
                wrong.append((message.id, form))  # a lone % (not %%) breaks the formatting
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def test_compiled_catalogue_is_fresh():
    compile_catalogues()
    mo = PO_FILE.with_suffix(".mo")
    assert mo.is_file() and mo.stat().st_mtime >= PO_FILE.stat().st_mtime


# --- the pages ------------------------------------------------------------------------------------

def _login_page(app, **headers) -> str:
    response = app.test_client().get("/login", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_login_page_follows_the_browser_language(app, fresh_translations):
    chinese = _login_page(app, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in chinese and "<strong>中文</strong>" in chinese
    assert "<h1>登录</h1>" in chinese  # "Sign in", from the template
    assert "电子邮箱" in chinese and "密码" in chinese  # "Email", "Password": lazy_gettext form labels
    assert "Sign in" not in chinese

    english = _login_page(app, **{"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english and "<strong>English</strong>" in english
    assert "<h1>Sign in</h1>" in english and "Password" in english
    assert "登录" not in english


def test_error_pages_are_translated(app, fresh_translations):
    response = app.test_client().get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "页面不存在。" in response.get_data(as_text=True)


def test_language_switch_overrides_the_browser_and_sticks(app, fresh_translations):
    client = app.test_client()
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    assert "<h1>Sign in</h1>" in client.get("/login", headers=english_browser).get_data(as_text=True)

    response = client.get("/lang/zh_CN?next=/login", headers=english_browser)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    for _ in range(2):  # every following page, not just the next one
        page = client.get("/login", headers=english_browser).get_data(as_text=True)
        assert "<h1>登录</h1>" in page and "<title>登录</title>" in page and '<html lang="zh-CN">' in page

    client.get("/lang/en", headers={"Accept-Language": "zh-CN"})
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<h1>Sign in</h1>" in page and "登录" not in page


def test_visitor_mail_is_written_in_the_language_of_the_registration(app, make, fresh_translations):
    from expo.visitors.notifications import confirmation_mail

    edition = make.edition(name="2026 深圳国际家具展")
    chinese = make.registration(edition, name="王小明")
    chinese.locale = "zh_CN"  # as the registration page stores it
    english = make.registration(edition, name="Alice Smith")
    english.locale = "en"
    db.session.commit()

    mail = confirmation_mail(chinese.id)
    assert mail.subject == "【2026 深圳国际家具展】您的观众胸卡"
    assert "尊敬的王小明：" in mail.body_text and "感谢您登记参观" in mail.body_text
    mail = confirmation_mail(english.id)
    assert mail.subject == "Your badge for 2026 深圳国际家具展"
    assert "Dear Alice Smith," in mail.body_text


def test_unknown_language_is_refused(app):
    assert app.test_client().get("/lang/fr").status_code == 404
