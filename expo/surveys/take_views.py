"""Taking a survey: the public page a signed link opens (phone first, WeChat-safe, no JavaScript needed), the
thank-you page, the section on the visitor's badge page (hook ``visitor_page_sections``) and the exhibitor's
portal page with the company's survey links."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import refresh
from flask_login import current_user
from markupsafe import Markup

from ..core.auth import require
from ..core.permissions import has_permission
from ..core.scoping import Scope
from ..core.services import ServiceError
from ..core.templating import current_language
from ..extensions import db
from . import ANSWER_EXHIBITOR_SURVEYS, RUN_SURVEY_KIOSK, services

bp = Blueprint("survey_take", __name__)
LANGUAGES = ("en", "zh_CN")


def _language() -> str:
    return "zh" if current_language() == "zh_CN" else "en"


def _taker_or_404(token) -> services.Taker:
    taker = services.taker_of(token)
    if taker is None:
        abort(404)
    return taker


def _kiosk_back(taker) -> str | None:
    """Back to the kiosk after the answer, for the staff member running it on this device."""
    if (request.args.get("via") == "kiosk" and current_user.is_authenticated and not current_user.is_exhibitor_staff
            and current_user.organizer_id == taker.organizer_id and has_permission(current_user, RUN_SURVEY_KIOSK)):
        return url_for("surveys.kiosk", edition_id=taker.survey.edition_id, survey_id=taker.survey.id)
    return None


@bp.route("/s/<token>", methods=["GET", "POST"])
def take(token):
    taker = _taker_or_404(token)
    survey = taker.survey
    if "lang" not in session and taker.registration is not None and taker.registration.locale in LANGUAGES:
        session["lang"] = taker.registration.locale  # the visitor's language until they switch
        refresh()
    language = _language()
    done = services.already_answered(taker)
    errors, values, message, status = {}, {}, None, 200
    if request.method == "POST" and done is None and survey.status == "open":
        form = {key: request.form.getlist(key) for key in request.form if key.startswith("q")}
        try:
            services.submit(taker, form, language=language,
                            channel="kiosk" if request.args.get("via") == "kiosk" else "link")
        except services.AnswersRefused as refused:
            db.session.rollback()
            errors, values, message, status = refused.errors, refused.values, str(refused), 400
        except ServiceError as failure:  # answered a moment ago (another tab), or closed meanwhile
            db.session.rollback()
            message, status = str(failure), 409
            done = services.already_answered(taker)
        else:
            return redirect(url_for("survey_take.thanks", token=token, via=request.args.get("via") or None))
    return render_template("surveys/take.html", taker=taker, survey=survey, language=language, done=done,
                           errors=errors, values=values, message=message, token=token,
                           via=request.args.get("via") or None, kiosk_back=_kiosk_back(taker)), status


@bp.route("/s/<token>/thanks")
def thanks(token):
    taker = _taker_or_404(token)
    return render_template("surveys/thanks.html", taker=taker, survey=taker.survey, language=_language(),
                           kiosk_back=_kiosk_back(taker), via=request.args.get("via") or None)


@bp.route("/portal/surveys")
@require(ANSWER_EXHIBITOR_SURVEYS, exhibitor=True)
def portal():
    exhibitor = current_user.exhibitor
    scope = Scope(exhibitor.organizer_id)
    rows = []
    for survey in services.open_surveys(scope, exhibitor.edition_id, "exhibitor"):
        taker = services.Taker(survey, exhibitor=exhibitor)
        rows.append((survey, services.take_path(survey, exhibitor_id=exhibitor.id),
                     services.already_answered(taker) is not None))
    return render_template("surveys/portal.html", rows=rows, exhibitor=exhibitor, language=_language())


def visitor_section(registration) -> Markup | None:
    """The hook ``visitor_page_sections``: the edition's open visitor surveys on the visitor's badge page."""
    if registration.status != "confirmed" or registration.erased_at is not None:
        return None
    surveys = services.open_surveys(Scope(registration.organizer_id), registration.edition_id, "visitor")
    if not surveys:
        return None
    rows = [(s, services.take_path(s, registration_id=registration.id),
             services.already_answered(services.Taker(s, registration=registration)) is not None) for s in surveys]
    return Markup(render_template("surveys/visitor_section.html", rows=rows, language=_language()))
