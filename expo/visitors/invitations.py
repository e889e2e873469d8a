"""Invitation codes: each exhibitor invites its own customers with its own link (/e/<slug>?invite=CODE) and
may add codes of its own (per campaign, with an optional usage limit). A registration made with an
exhibitor's code records the exhibitor (``invited_by_exhibitor_id``, source "exhibitor_invitation"); the
exhibitor sees how many of its invitees registered and came, the organizer a report per exhibitor.

Codes are 16 random URL-safe characters (96 bits): unguessable. A use is claimed with one conditional UPDATE
(``uses < max_uses``), so a limit holds under concurrent submits. Exhibitors are reached through the
relationship by name (visitors and exhibitors are on one floor and never import each other)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..extensions import db
from .listing import checked_in_among
from .models import InvitationCode, Registration

CODE_BYTES = 12  # 16 characters
CODE_MAX = 32
LABEL_MAX = 100
MAX_USES = 1_000_000


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def clean_code(text: str | None) -> str:
    """What was typed or came in the link, trimmed; '' for anything that cannot be a code."""
    text = (text or "").strip()
    if not text or len(text) > CODE_MAX or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        return ""
    return text


def find_code(edition: Edition, text: str | None) -> InvitationCode | None:
    code = clean_code(text)
    if not code:
        return None
    return db.session.scalar(select(InvitationCode).where(InvitationCode.code == code,
                                                          InvitationCode.edition_id == edition.id))


# An exhibitor that withdrew (exhibitors.models.WITHDRAWN_STATUSES; one floor, so named here) invites no more.
WITHDRAWN_EXHIBITOR = ("lost", "cancelled")


def usable(code: InvitationCode | None) -> bool:
    """The code may be used now: switched on, and its exhibitor (if any) still takes part in the edition."""
    return (code is not None and code.active
            and (code.exhibitor_id is None or code.exhibitor.status not in WITHDRAWN_EXHIBITOR))


def claim_code(code: InvitationCode) -> None:
    """Count one use of the code, unless it is used up meanwhile (then ServiceError: nothing is written)."""
    result = db.session.execute(
        update(InvitationCode).where(InvitationCode.id == code.id, InvitationCode.active.is_(True),
                                     (InvitationCode.max_uses.is_(None)) | (InvitationCode.uses < InvitationCode.max_uses))
        .values(uses=InvitationCode.uses + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError(_l("This invitation code has been used as often as it may. Ask whoever invited you "
                              "for a new one."), "invitation_code")


# --- an exhibitor's codes --------------------------------------------------------------------------------

def exhibitor_codes(scope: Scope, exhibitor) -> list[InvitationCode]:
    """The exhibitor's codes, its own link first; the own link is made the first time it is asked for."""
    codes = list(db.session.scalars(scoped(InvitationCode, scope).where(InvitationCode.exhibitor_id == exhibitor.id)
                                    .order_by(InvitationCode.is_default.desc(), InvitationCode.id)))
    if not any(code.is_default for code in codes):
        own = InvitationCode(organizer_id=exhibitor.organizer_id, edition_id=exhibitor.edition_id,
                             exhibitor_id=exhibitor.id, code=new_code(), label="", is_default=True, uses=0,
                             active=True)
        db.session.add(own)
        db.session.flush()
        codes.insert(0, own)
    return codes


def organizer_codes(scope: Scope, edition: Edition) -> list[InvitationCode]:
    """The organizer's own codes for the edition (VIP and press invitations, a partner's mailing): they
    admit to an invitation-only edition and record no exhibitor."""
    return list(db.session.scalars(scoped(InvitationCode, scope).where(InvitationCode.edition_id == edition.id,
                                                                       InvitationCode.exhibitor_id.is_(None))
                                   .order_by(InvitationCode.id)))


def organizer_code_counts(edition: Edition) -> dict[int, int]:
    """Registrations per organizer code of the edition."""
    return dict(db.session.execute(
        select(Registration.invitation_code_id, func.count()).join(InvitationCode,
                                                                   InvitationCode.id == Registration.invitation_code_id)
        .where(Registration.edition_id == edition.id, InvitationCode.exhibitor_id.is_(None))
        .group_by(Registration.invitation_code_id)).all())


def create_organizer_code(scope: Scope, edition: Edition, label: str, max_uses: int | None, *,
                          actor_id: int | None = None) -> InvitationCode:
    """A code of the organizer's (e.g. "VIP buyers", "Press"), with an optional usage limit. Audited."""
    if scope.exhibitor_id is not None or edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    return _new_code(edition.organizer_id, edition.id, None, label, max_uses, actor_id=actor_id)


def create_code(scope: Scope, exhibitor, label: str, max_uses: int | None, *, actor_id: int | None = None
                ) -> InvitationCode:
    """An extra code of the exhibitor (e.g. one per mailing), with an optional usage limit. Audited."""
    return _new_code(exhibitor.organizer_id, exhibitor.edition_id, exhibitor.id, label, max_uses, actor_id=actor_id)


def _new_code(organizer_id: int, edition_id: int, exhibitor_id: int | None, label: str, max_uses: int | None, *,
              actor_id: int | None) -> InvitationCode:
    label = " ".join((label or "").replace("\x00", " ").split())
    if not label:
        raise ServiceError(_l("Name the code (e.g. the mailing it goes with)."), "label")
    if len(label) > LABEL_MAX:
        raise ServiceError(_l("At most %(n)d characters.", n=LABEL_MAX), "label")
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise ServiceError(_l("A limit is a number between 1 and %(max)d.", max=MAX_USES), "max_uses")
    code = InvitationCode(organizer_id=organizer_id, edition_id=edition_id, exhibitor_id=exhibitor_id,
                          code=new_code(), label=label, max_uses=max_uses, uses=0, active=True, is_default=False,
                          created_by_id=actor_id)
    db.session.add(code)
    db.session.flush()
    audit("invitation_code.created", organizer_id=organizer_id, user_id=actor_id, obj=code,
          details={"exhibitor_id": exhibitor_id, "label": label, "max_uses": max_uses})
    return code


def set_code_active(scope: Scope, code_id, active: bool, *, actor_id: int | None = None,
                    edition_id: int | None = None) -> InvitationCode:
    """Switch one of the scope's codes (of ``edition_id``, if given) off (its link stops working) or on again.
    Audited."""
    try:
        code_id = int(code_id)
    except (TypeError, ValueError):
        code_id = None
    code = db.session.scalar(scoped(InvitationCode, scope).where(InvitationCode.id == code_id)) \
        if code_id is not None and 0 < code_id < 2**31 else None
    if code is None or (edition_id is not None and code.edition_id != edition_id):
        raise ServiceError(_l("No such invitation code."))
    if code.active != active:
        code.active = active
        audit("invitation_code.switched", organizer_id=code.organizer_id, user_id=actor_id, obj=code,
              details={"active": active})
    return code


@dataclass(frozen=True)
class InviteeCounts:
    registered: int = 0
    confirmed: int = 0
    checked_in: int = 0


def _invitee_ids(edition_id: int, exhibitor_id: int | None = None):
    stmt = select(Registration.id, Registration.invited_by_exhibitor_id, Registration.status,
                  Registration.invitation_code_id).where(Registration.edition_id == edition_id,
                                                         Registration.invited_by_exhibitor_id.is_not(None))
    if exhibitor_id is not None:
        stmt = stmt.where(Registration.invited_by_exhibitor_id == exhibitor_id)
    return list(db.session.execute(stmt))


def exhibitor_counts(exhibitor) -> tuple[InviteeCounts, dict[int, int]]:
    """How many of the exhibitor's invitees registered, are confirmed, checked in; and registrations per code."""
    rows = _invitee_ids(exhibitor.edition_id, exhibitor.id)
    came = checked_in_among(exhibitor.edition, [row.id for row in rows])
    per_code: dict[int, int] = {}
    for row in rows:
        if row.invitation_code_id is not None:
            per_code[row.invitation_code_id] = per_code.get(row.invitation_code_id, 0) + 1
    return InviteeCounts(len(rows), sum(1 for row in rows if row.status == "confirmed"),
                         sum(1 for row in rows if row.id in came)), per_code


@dataclass(frozen=True)
class ReportRow:
    exhibitor: object
    codes: int
    counts: InviteeCounts


def organizer_report(scope: Scope, edition: Edition) -> list[ReportRow]:
    """Registrations per inviting exhibitor (registered, confirmed, checked in), most registrations first;
    exhibitors with codes and no invitee yet are listed too."""
    rows = _invitee_ids(edition.id)
    came = checked_in_among(edition, [row.id for row in rows])
    per_exhibitor: dict[int, list] = {}
    for row in rows:
        per_exhibitor.setdefault(row.invited_by_exhibitor_id, []).append(row)
    code_counts = dict(db.session.execute(
        scoped(InvitationCode, scope, InvitationCode.exhibitor_id, func.count(InvitationCode.id))
        .where(InvitationCode.edition_id == edition.id, InvitationCode.exhibitor_id.is_not(None))
        .group_by(InvitationCode.exhibitor_id)).all())
    exhibitor_ids = set(per_exhibitor) | set(code_counts)
    exhibitor_model = InvitationCode.exhibitor.property.mapper.class_
    exhibitors = {e.id: e for e in db.session.scalars(
        scoped(exhibitor_model, scope).where(exhibitor_model.id.in_(exhibitor_ids)))} if exhibitor_ids else {}
    report = []
    for exhibitor_id, exhibitor in exhibitors.items():
        invitees = per_exhibitor.get(exhibitor_id, [])
        report.append(ReportRow(exhibitor, code_counts.get(exhibitor_id, 0), InviteeCounts(
            len(invitees), sum(1 for row in invitees if row.status == "confirmed"),
            sum(1 for row in invitees if row.id in came))))
    report.sort(key=lambda r: (-r.counts.registered, -r.counts.checked_in, r.exhibitor.company.name))
    return report


def report_totals(report: list[ReportRow]) -> InviteeCounts:
    return InviteeCounts(sum(r.counts.registered for r in report), sum(r.counts.confirmed for r in report),
                         sum(r.counts.checked_in for r in report))

