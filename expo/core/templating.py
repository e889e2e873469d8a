"""Template helpers: language switch, permissions, navigation, status labels, times in the edition's
zone, error pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError

from ..extensions import db
from .permissions import has_permission
from .registry import registry


def current_language() -> str:
    """The request's language as the app names it: 'en' or 'zh_CN' (not Babel's 'zh_Hans_CN')."""
    locale = get_locale()
    return "_".join(part for part in (locale.language, locale.territory) if part)


def label(value) -> str:
    """The translated label of a code of any status type (registry machines); unknown codes as they are."""
    return registry.labels().get(value, value or "")


def state(code, machine: str):
    """The State (label, colour, icon) of a code in the named status type."""
    return registry.machines()[machine].state(code)


def country_name(code: str | None) -> str:
    """"CN" -> "China" / "中国" in the current language; an unknown code as it is."""
    locale = get_locale()
    return locale.territories.get(code.upper(), code) if code and locale else code or ""


def localtime(moment: datetime | None, zone: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    active: bool


@dataclass(frozen=True)
class NavMenu:
    """Entries of one NavGroup, shown as one dropdown (``items``: NavItem)."""

    label: str
    icon: str
    items: list

    @property
    def active(self) -> bool:
        return any(item.active for item in self.items)


def nav_items(area: str, **values) -> list:
    """The registered navigation entries of an area that the signed-in user may open: NavItem, or NavMenu for
    the entries of a group (a group with a single entry the user may open shows as that entry)."""
    shown, menus = [], {}
    for entry in registry.nav(area):
        if entry.permission is not None and not has_permission(current_user, entry.permission):
            continue
        item = NavItem(entry.label, url_for(entry.endpoint, **values), entry.icon, request.endpoint == entry.endpoint)
        if entry.group is None:
            shown.append(item)
        elif entry.group.key in menus:
            menus[entry.group.key].items.append(item)
        else:
            menus[entry.group.key] = NavMenu(entry.group.label, entry.group.icon, [item])
            shown.append(menus[entry.group.key])
    return [entry.items[0] if isinstance(entry, NavMenu) and len(entry.items) == 1 else entry for entry in shown]


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["state"] = state
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["country"] = country_name

    @app.context_processor
    def helpers():
        context = {
            "can": lambda permission: has_permission(current_user, permission),
            "current_locale": current_language(),
            "languages": app.config["LANGUAGES"],
            "machines": registry.machines(),
            "nav_items": [],
            "edition_nav": [],
        }
        if has_request_context() and current_user and current_user.is_authenticated:
            context["nav_items"] = nav_items("exhibitor" if current_user.is_exhibitor_staff else "organizer")
            if g.get("edition") is not None and not current_user.is_exhibitor_staff:
                context["edition_nav"] = nav_items("edition", edition_id=g.edition.id)
        return context

    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)


RETRY_AFTER_SECONDS = 5


def _database_unavailable(error):
    """The database went away (a restart, a failover, a dropped connection): a 503 to retry shortly, not a
    500. The pool has already thrown the dead connections away, so the next request gets fresh ones. The
    answer renders without the database (no signed-in user is looked up)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown anyway
        pass
    message = str(_l("The database cannot be reached for a moment. Please try again in a few seconds."))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        return {"error": "Service Unavailable", "message": message}, 503, headers
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>503</title></head>'
            f"<body><h1>503</h1><p>{escape(message)}</p></body></html>")
    return page, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if code >= 500:
        db.session.rollback()  # a failed write leaves the session unusable: the error page must still render
    if request.path.startswith("/api/"):
        return {"error": getattr(error, "name", "Error"), "message": getattr(error, "description", "")}, code
    return render_template("error.html", code=code, error=error), code
