"""Template helpers: language switch, permissions, times in the edition's zone, error pages."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .permissions import has_permission

LABELS = {
    # visitor categories
    "buyer": _l("Buyer"), "trade_visitor": _l("Trade visitor"), "public": _l("Public"), "media": _l("Media"),
    "vip": _l("VIP"), "exhibitor_staff": _l("Exhibitor staff"), "speaker": _l("Speaker"),
    # registration statuses and sources
    "pending": _l("Pending"), "confirmed": _l("Confirmed"), "cancelled": _l("Cancelled"),
    "waitlisted": _l("Waitlisted"), "online": _l("Online"), "import": _l("Import"), "walk_up": _l("Walk-up"),
    "exhibitor_invitation": _l("Exhibitor invitation"), "campaign": _l("Campaign"),
    # edition statuses
    "draft": _l("Draft"), "registration_open": _l("Registration open"), "live": _l("Live"), "closed": _l("Closed"),
    # exhibitor pipeline
    "prospect": _l("Prospect"), "contacted": _l("Contacted"), "negotiating": _l("Negotiating"),
    "contracted": _l("Contracted"), "paid": _l("Paid"), "exhibited": _l("Exhibited"), "lost": _l("Lost"),
    # roles
    "owner": _l("Owner"), "manager": _l("Manager"), "sales": _l("Sales"), "onsite": _l("On-site staff"),
    "analyst": _l("Analyst"), "exhibitor_admin": _l("Exhibitor admin"), "booth_staff": _l("Booth staff"),
    # scan results and reasons
    "ok": _l("OK"), "duplicate": _l("Already scanned"), "refused": _l("Refused"),
    "malformed": _l("Not a badge code"), "unsupported_version": _l("Unknown badge version"),
    "other_edition": _l("Badge of another show or edition"), "invalid_signature": _l("Forged or altered badge"),
    "unknown_registration": _l("Unknown registration"), "revoked": _l("Revoked badge"),
    "not_admitted": _l("Registration not confirmed"),
    # lead ratings
    "hot": _l("Hot"), "warm": _l("Warm"), "cold": _l("Cold"),
    # mail statuses
    "queued": _l("Queued"), "sent": _l("Sent"), "failed": _l("Failed"), "kept": _l("Kept in outbox"),
}


def current_language() -> str:
    """The request's language as the app names it: 'en' or 'zh_CN' (not Babel's 'zh_Hans_CN')."""
    locale = get_locale()
    return "_".join(part for part in (locale.language, locale.territory) if part)


def label(value) -> str:
    return LABELS.get(value, value or "")


def localtime(moment: datetime | None, zone: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["localtime"] = localtime

    @app.context_processor
    def helpers():
        return {
            "can": lambda permission: has_permission(current_user, permission),
            "current_locale": current_language(),
            "languages": app.config["LANGUAGES"],
        }

    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _error_page)


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):
        return {"error": getattr(error, "name", "Error"), "message": getattr(error, "description", "")}, code
    return render_template("error.html", code=code, error=error), code
