"""Win-back and survey-invitation pages: start a win-back from the churn watch list (one click), write a survey
invitation, change the prefilled mail of either, send the survey reminder. The campaign page, preview, send and
report are the campaigns module's own (views.py asks ``campaign_page`` and ``report_extra`` here)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form, choices
from ..core.permissions import has_permission
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError
from ..extensions import db
from . import MANAGE_CAMPAIGNS, VIEW_CAMPAIGNS, services, survey_mail, winback
from .models import Campaign

bp = edition_scoped(Blueprint("winback", __name__))


class MailForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    subject_en = StringField(_l("Subject (English)"), validators=[Optional(), Length(max=300)])
    body_en = TextAreaField(_l("Text (English)"), validators=[Optional(), Length(max=20000)])
    subject_zh = StringField(_l("Subject (Chinese)"), validators=[Optional(), Length(max=300)])
    body_zh = TextAreaField(_l("Text (Chinese)"), validators=[Optional(), Length(max=20000)])


class SurveyMailForm(Form):
    survey = SelectField(_l("Survey"), validators=[DataRequired()])
    remind_after_days = IntegerField(_l("Remind those who have not answered after (days)"), default=7,
                                     validators=[DataRequired(), NumberRange(1, survey_mail.MAX_REMIND_AFTER_DAYS)])


class StartForm(Form):
    kind = SelectField(choices=choices([("exhibitor", "exhibitor"), ("visitor", "visitor")]))
    holdout = BooleanField()


def watchlist_campaign(edition, kind: str) -> str | None:
    """The hook ``watchlist_campaign``: where the watch list's selection is posted, for those who may."""
    if not has_permission(current_user, MANAGE_CAMPAIGNS):
        return None
    return url_for("winback.start", edition_id=edition.id)


def _campaign(campaign_id) -> Campaign:
    return get_in_edition_or_404(Campaign, campaign_id, g.edition.id, current_scope())


@bp.route("/org/editions/<int:edition_id>/winback", methods=["POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def start():
    """The watch list's "Start win-back campaign": the ticked customers become a draft campaign's recipients."""
    form = StartForm()
    held = winback.held_edition(g.edition)
    kind = request.form.get("kind") if request.form.get("kind") in winback.AUDIENCE else "exhibitor"
    back = url_for("watchlist.watchlist", edition_id=g.edition.id, tab=kind)
    if not form.validate_on_submit() or held is None:
        flash(_("The selection could not be read: open the watch list and try again."), "danger")
        return redirect(back)
    scope = current_scope()
    try:
        rows = winback.watch_list(scope, held, kind)
        campaign = winback.create_winback(scope, held, kind, request.form.getlist("ids"), rows,
                                          holdout=form.holdout.data, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(back)
    missing = len((campaign.settings or {}).get("no_address") or [])
    flash(_("Win-back campaign saved as a draft for %(n)s recipients. Change the mail if you like, check the "
            "preview, then send it.", n=campaign.recipient_count), "success")
    if missing:
        flash(_("%(n)s chosen customers have no address to mail.", n=missing), "warning")
    return redirect(url_for("campaigns.campaign", edition_id=held.id, campaign_id=campaign.id))


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/mail", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def edit_mail(campaign_id):
    """Change the name and the mail of a win-back or survey invitation draft (its recipients are fixed)."""
    campaign = _campaign(campaign_id)
    if campaign.kind not in ("winback", "survey"):
        return redirect(url_for("campaigns.edit_campaign", campaign_id=campaign.id))
    if campaign.status != "draft":
        flash(_("Only a draft can be changed: this campaign is being sent or was sent."), "warning")
        return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    form = MailForm(obj=campaign) if request.method == "POST" else MailForm(formdata=None, obj=campaign)
    if form.validate_on_submit():
        data = services.CampaignData(name=form.name.data or "", segment=None, subject_en=form.subject_en.data or "",
                                     body_en=form.body_en.data or "", subject_zh=form.subject_zh.data or "",
                                     body_zh=form.body_zh.data or "")
        try:
            values = services._clean(data)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field and hasattr(form, error.field) else "name").errors.append(
                str(error))
        else:
            for key, value in values.items():
                setattr(campaign, key, value)
            services.audit("campaign.updated", organizer_id=campaign.organizer_id, user_id=current_user.id,
                           obj=campaign, details={"name": campaign.name})
            flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    return render_template("campaigns/winback_mail_form.html", edition=g.edition, form=form, campaign=campaign)


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/reminder", methods=["POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def reminder(campaign_id):
    """A survey invitation's one reminder, now (the beat sends it by itself after N days)."""
    from ..core.tasks import deliver_mail

    campaign = _campaign(campaign_id)
    try:
        ids = survey_mail.remind(campaign, early=True, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        for message_id in ids:
            deliver_mail.delay(message_id)  # held until the commit
        flash(_("Reminder sent to %(n)s people who have not answered.", n=len(ids)), "success")
    return redirect(url_for("campaigns.campaign", campaign_id=campaign_id))


@bp.route("/org/editions/<int:edition_id>/survey-mail/new", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def new_survey_mail():
    """A survey invitation: choose one of the edition's open surveys; the mail is prefilled."""
    scope = current_scope()
    form = SurveyMailForm()
    surveys = survey_mail.open_surveys(scope, g.edition)
    audiences = {"visitor": _("Visitors (people)"), "exhibitor": _("Exhibitor companies")}
    form.survey.choices = choices((str(s.id), f"{survey_mail._title(s, 'en')} · {audiences.get(s.audience, '')}")
                                  for s in surveys)
    if form.validate_on_submit():
        try:
            campaign = survey_mail.create_survey_campaign(scope, g.edition, form.survey.data,
                                                          remind_after_days=form.remind_after_days.data,
                                                          actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field and hasattr(form, error.field) else "survey").errors.append(
                str(error))
        else:
            flash(_("Survey invitation saved as a draft. Check the preview, then send it."), "success")
            return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    return render_template("campaigns/winback_survey_form.html", edition=g.edition, form=form, surveys=surveys)


# --- what the campaigns pages show of these kinds -------------------------------------------------------

def campaign_page(campaign: Campaign, recipients):
    """The campaign page of a win-back or survey invitation (campaigns.views.campaign)."""
    edition = g.edition
    if campaign.kind == "winback":
        lines = winback.describe(campaign)
        preview = winback.preview_rows(campaign) if campaign.status == "draft" else None
        extra = {"effect": winback.effect(campaign) if campaign.status != "draft" else None}
    else:
        survey = survey_mail.survey_of(campaign)
        lines = [str(_l("Survey: %(title)s", title=survey_mail._title(survey, "en") if survey else "—")),
                 str(_l("Visitors registered for %(edition)s", edition=edition.name))
                 if survey_mail.audience(campaign) == "visitor"
                 else str(_l("Exhibitor admins of %(edition)s", edition=edition.name)),
                 str(_l("One reminder to those who have not answered, %(n)s days after sending",
                        n=survey_mail.remind_after(campaign).days))]
        preview = survey_mail.preview(campaign, edition) if campaign.status == "draft" else None
        extra = {"reminder_due": survey_mail.reminder_due_at(campaign),
                 "reminded": survey_mail.reminded_count(campaign)}
    return render_template("campaigns/campaign.html", edition=edition, campaign=campaign, preview=preview,
                           recipients=recipients, segment_lines=lines, report=services.report(campaign),
                           rate=services.rate_per_minute(), extra=extra,
                           edit_url=url_for("winback.edit_mail", campaign_id=campaign.id))


def report_extra(campaign: Campaign) -> dict:
    """What the report page adds for a win-back (its effect) or a survey invitation (the reminder)."""
    if campaign.kind == "winback":
        return {"effect": winback.effect(campaign)}
    if campaign.kind == "survey":
        return {"reminder_due": survey_mail.reminder_due_at(campaign), "reminded": survey_mail.reminded_count(campaign)}
    return {}
