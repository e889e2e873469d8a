"""Mails to visitors, written in the language they registered in.

Anyone can type any name and any address into the public form, so a mail to a visitor must never turn
the organizer's mail domain into a relay for someone else's text: the only visitor text in it is the name
(one line, capped, and left out when it looks like a link or an address), nothing from company, job title
or answers, and no link ever comes from the request (its Host header is the sender's choice)."""
import logging
import re
import unicodedata

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..core import activity
from ..core import services as core
from ..core.models import MailMessage
from ..extensions import db
from .badges import badge_code, qr_png
from .models import Registration

FALLBACK_PUBLIC_URL = "http://127.0.0.1:5000"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAIL_NAME_MAX = 60  # characters of the visitor's name a mail shows
# Something a mail client would turn into a link or an address: a scheme, www., an @, or a dot between
# a word and two letters ("evil.example"). Checked on the NFKC form, so full-width dots count too.
_LINKISH = re.compile(r"://|\bwww\.|@|\w\.[^\W\d_]{2,}", re.IGNORECASE)

log = logging.getLogger(__name__)


def request_base_url() -> str | None:
    """The address of the current request for the links of a mail it queues — only when it can be trusted,
    else None (the mail then uses EXPO_PUBLIC_URL or the embedded default). The Host header (and a proxy's
    X-Forwarded-Host) is chosen by whoever sends the request, so it is trusted only when Flask checked it
    (TRUSTED_HOSTS) or when it names this machine (the embedded app on 127.0.0.1:<port>). SERVER_NAME,
    when set, is the configured address."""
    config = current_app.config
    if config.get("PUBLIC_URL"):
        return None  # it wins anyway
    if config.get("SERVER_NAME"):
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}{root}/"
    if not has_request_context():
        return None
    host = request.host  # with TRUSTED_HOSTS set, Flask refuses any other host here (400)
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if config.get("TRUSTED_HOSTS") or name.strip("[]").lower() in LOOPBACK_HOSTS:
        return request.url_root
    return None


def visitor_page_url(registration: Registration, public_url: str | None = None) -> str:
    """The visitor's own page. EXPO_PUBLIC_URL wins; else a trusted base handed over by the request that
    queued the mail (request_base_url: so the embedded app on port 8080 links to port 8080); else the
    embedded default."""
    base = current_app.config["PUBLIC_URL"] or public_url
    if not base:
        log.warning("EXPO_PUBLIC_URL is not set: the links in visitor mails point to %s", FALLBACK_PUBLIC_URL)
        base = FALLBACK_PUBLIC_URL
    return f"{base.rstrip('/')}/r/{registration.access_key}"


def mail_safe_name(name: str | None) -> str | None:
    """The visitor's name as a mail may show it: one line, at most MAIL_NAME_MAX characters, or None (the
    mail then greets "visitor") when it holds something a mail client would make clickable."""
    text = " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in name or "").split())
    if not text or _LINKISH.search(unicodedata.normalize("NFKC", text)):
        return None
    return text if len(text) <= MAIL_NAME_MAX else text[:MAIL_NAME_MAX - 1].rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _badge_mail(registration: Registration, public_url: str | None, *, again: bool,
                promoted: bool = False) -> MailMessage:
    code = badge_code(registration)
    with force_locale(registration.locale or "en"):
        context = {"registration": registration, "edition": registration.edition, "again": again,
                   "promoted": promoted and not again,
                   "name": mail_safe_name(registration.visitor_name),
                   "url": visitor_page_url(registration, public_url), "code": code}
        if again:
            subject = _("Your registration link for %(edition)s", edition=registration.edition.name)
        elif promoted:
            subject = _("A place is free: your badge for %(edition)s", edition=registration.edition.name)
        else:
            subject = _("Your badge for %(edition)s", edition=registration.edition.name)
        text = render_template("visitors/mail/confirmation.txt", **context)
        html = render_template("visitors/mail/confirmation.html", **context)
    message = core.queue_mail(registration.organizer_id, registration.person.email, _one_line(subject)[:300], text,
                              html, attachments=[("badge.png", "image/png", qr_png(code))])
    # On the visitor's timeline: which mail (the subject, in the visitor's language), never its text.
    if message is not None:
        activity.record("mail.queued", organizer_id=registration.organizer_id, subject_type="person",
                        subject_id=registration.person_id, edition_id=registration.edition_id, obj=message,
                        details={"subject": message.subject,
                                 "mail": "link" if again else "promoted" if promoted else "confirmation"})
    return message


def confirmation_mail(registration_id: int, public_url: str | None = None, *,
                      promoted: bool = False) -> MailMessage | None:
    """The badge mail; ``promoted``: the visitor waited on the waiting list and a place became free."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or not registration.person.email or registration.status == "cancelled":
        return None
    return _badge_mail(registration, public_url, again=False, promoted=promoted)


def registration_link_mail(registration_id: int, public_url: str | None = None) -> MailMessage | None:
    """The link again, for an address typed into the form (or "send it again") that is already registered."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or not registration.person.email or registration.status == "cancelled":
        return None
    return _badge_mail(registration, public_url, again=True)
