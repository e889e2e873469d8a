"""Mails to visitors, written in the language they registered in."""
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core import services as core
from ..core.models import MailMessage
from ..extensions import db
from .badges import badge_code, qr_png
from .models import Registration

FALLBACK_PUBLIC_URL = "http://127.0.0.1:5000"


def visitor_page_url(registration: Registration, public_url: str | None = None) -> str:
    """The visitor's own page. EXPO_PUBLIC_URL wins; else the address of the request that queued the
    mail (so a mail sent by an app on port 8080 links to port 8080); else the embedded default."""
    base = (current_app.config["PUBLIC_URL"] or public_url or FALLBACK_PUBLIC_URL).rstrip("/")
    return f"{base}/r/{registration.access_key}"


def confirmation_mail(registration_id: int, public_url: str | None = None) -> MailMessage | None:
    registration = db.session.get(Registration, registration_id)
    if registration is None or not registration.person.email or registration.status == "cancelled":
        return None
    code = badge_code(registration)
    png = qr_png(code)
    with force_locale(registration.locale or "en"):
        context = {"registration": registration, "person": registration.person, "edition": registration.edition,
                   "url": visitor_page_url(registration, public_url), "code": code}
        subject = _("Your badge for %(edition)s", edition=registration.edition.name)
        text = render_template("visitors/mail/confirmation.txt", **context)
        html = render_template("visitors/mail/confirmation.html", **context)
    return core.queue_mail(registration.organizer_id, registration.person.email, subject, text, html,
                           attachments=[("badge.png", "image/png", png)])
