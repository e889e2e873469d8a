"""Campaign pages (list, write, preview and send, report) and the public unsubscribe page."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import choices
from ..core.paging import page_number
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, category_tree
from ..core.templating import label
from ..extensions import db
from ..visitors import services as visitor_services
from ..visitors.models import VISITOR_CATEGORY
from . import MANAGE_CAMPAIGNS, VIEW_CAMPAIGNS, services
from . import digests
from .forms import CampaignForm, DigestForm, SubscriptionForm
from .models import Campaign
from .segments import Segment, describe

bp = edition_scoped(Blueprint("campaigns", __name__))


def _campaign(campaign_id) -> Campaign:
    return get_in_edition_or_404(Campaign, campaign_id, g.edition.id, current_scope())


def _form(campaign: Campaign | None = None) -> CampaignForm:
    edition = g.edition
    if request.method == "POST":
        form = CampaignForm()
    elif campaign is not None:
        segment = services.segment_of(campaign)
        form = CampaignForm(formdata=None, obj=campaign, data={
            **segment.as_dict(), "countries": ", ".join(segment.countries)})
    else:
        form = CampaignForm(formdata=None)
    form.edition_ids.choices = choices((e.id, e.name) for e in services.editions_for_choice(edition))
    form.categories.choices = choices((c, label(c)) for c in VISITOR_CATEGORY.codes)
    form.interests.choices = choices((c.id, "— " * depth + c.name) for c, depth in category_tree(edition.show))
    return form


def _data(form: CampaignForm) -> services.CampaignData:
    return services.CampaignData(name=form.name.data or "", segment=Segment.from_dict(form.segment_dict()),
                                 subject_en=form.subject_en.data or "", body_en=form.body_en.data or "",
                                 subject_zh=form.subject_zh.data or "", body_zh=form.body_zh.data or "")


def _error(form: CampaignForm, error: ServiceError) -> None:
    db.session.rollback()
    getattr(form, error.field if error.field and hasattr(form, error.field) else "name").errors.append(str(error))


@bp.route("/org/editions/<int:edition_id>/campaigns")
@require(VIEW_CAMPAIGNS, organizer=True)
def campaigns():
    rows = [(c, services.report(c)) for c in services.campaigns(current_scope(), g.edition)]
    return render_template("campaigns/list.html", edition=g.edition, rows=rows)


@bp.route("/org/editions/<int:edition_id>/campaigns/new", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def new_campaign():
    form = _form()
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(current_scope(), g.edition, _data(form), actor_id=current_user.id)
        except ServiceError as error:
            _error(form, error)
        else:
            flash(_("Campaign saved as a draft. Check the preview, then send it."), "success")
            return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    return render_template("campaigns/form.html", edition=g.edition, form=form, campaign=None)


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def edit_campaign(campaign_id):
    campaign = _campaign(campaign_id)
    if campaign.status != "draft":
        flash(_("Only a draft can be changed: this campaign is being sent or was sent."), "warning")
        return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    if digests.is_digest(campaign):
        return redirect(url_for("campaigns.edit_digest", campaign_id=campaign.id))
    if campaign.kind in ("winback", "survey"):
        return redirect(url_for("winback.edit_mail", campaign_id=campaign.id))
    form = _form(campaign)
    if form.validate_on_submit():
        try:
            services.update_campaign(campaign, _data(form), actor_id=current_user.id)
        except ServiceError as error:
            _error(form, error)
        else:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    return render_template("campaigns/form.html", edition=g.edition, form=form, campaign=campaign)


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>")
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def campaign(campaign_id):
    """The campaign: its segment in words, the preview (count and first rows) or the recipients, the mail
    in both languages as a recipient would read it, and the send / pause / resume buttons."""
    campaign = _campaign(campaign_id)
    recipients = None if campaign.status == "draft" else services.recipients_page(
        campaign, page=page_number(request.args.get("page")))
    if campaign.kind in ("winback", "survey"):  # a watch list's selection or a survey's audience
        from .winback_views import campaign_page

        return campaign_page(campaign, recipients)
    if digests.is_digest(campaign):  # who is core, and the first recipient's digest in both languages
        preview = digests.preview(campaign, g.edition) if campaign.status == "draft" else None
        sample = digests.sample(campaign, g.edition, visitor_services.request_base_url() or "") \
            if campaign.status == "draft" else []
        return render_template("campaigns/campaign.html", edition=g.edition, campaign=campaign, preview=preview,
                               recipients=recipients, segment_lines=digests.describe(campaign, g.edition),
                               report=services.report(campaign), rate=services.rate_per_minute(), sample=sample,
                               edit_url=url_for("campaigns.edit_digest", campaign_id=campaign.id))
    segment = services.segment_of(campaign)
    preview = services.preview(g.edition, segment) if campaign.status == "draft" else None
    return render_template("campaigns/campaign.html", edition=g.edition, campaign=campaign, preview=preview,
                           recipients=recipients, segment_lines=describe(g.edition, segment),
                           report=services.report(campaign), rate=services.rate_per_minute())


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/status", methods=["POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def campaign_status(campaign_id):
    """Send (a draft), pause (while sending) or resume (when paused)."""
    campaign = _campaign(campaign_id)
    target = request.form.get("to")
    try:
        if target == "sending":
            count = services.start(campaign, actor_id=current_user.id, link_base=visitor_services.request_base_url())
            flash(_("Sending to %(n)s recipients, %(rate)s per minute.", n=count, rate=services.rate_per_minute()),
                  "success")
        elif target == "paused":
            services.pause(campaign, actor_id=current_user.id)
            flash(_("Campaign paused. Nobody else gets it until you resume."), "success")
        else:
            raise ServiceError(_("Unknown status."))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "danger")
    return redirect(url_for("campaigns.campaign", campaign_id=campaign_id))


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/report")
@require(VIEW_CAMPAIGNS, organizer=True)
def report(campaign_id):
    campaign = _campaign(campaign_id)
    figures = services.report(campaign)
    from .winback_views import report_extra

    extra = report_extra(campaign)
    if campaign.kind in ("winback", "survey"):
        from . import survey_mail, winback

        lines = winback.describe(campaign) if campaign.kind == "winback" else \
            [str(_("Visitors (people)") if survey_mail.audience(campaign) == "visitor" else _("Exhibitor companies"))]
    else:
        lines = digests.describe(campaign, g.edition) if digests.is_digest(campaign) else \
            describe(g.edition, services.segment_of(campaign))
    chart = {"type": "funnel", "series": [{"name": campaign.name, "data": [
        {"name": _("Sent"), "value": figures.sent}, {"name": _("Opened the link"), "value": figures.opened},
        {"name": _("Registered through the link"), "value": figures.registered},
        {"name": _("Checked in"), "value": figures.checked_in}]}]}
    return render_template("campaigns/report.html", edition=g.edition, campaign=campaign, report=figures,
                           chart=chart, segment_lines=lines, extra=extra)


# --- public ---------------------------------------------------------------------------------------

@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token):
    """The unsubscribe link of a campaign mail: one button (a GET changes nothing: mail scanners open links),
    and a way back (subscribe again). A forged or garbled link is a 404."""
    sub = services.subscription(token)
    if sub is None:
        abort(404)
    form = SubscriptionForm()
    done = None
    if form.validate_on_submit():
        subscribe = form.action.data == "resubscribe"
        services.set_subscribed(sub, subscribe)
        done = "resubscribed" if subscribe else "unsubscribed"
    return render_template("campaigns/unsubscribe.html", sub=sub, form=form, done=done,
                           organizer=sub.campaign.edition.show.name)


# --- supply-and-demand digests -----------------------------------------------------------------------

def _digest_form(campaign: Campaign | None = None) -> DigestForm:
    if request.method == "POST":
        form = DigestForm()
    elif campaign is not None:
        form = DigestForm(formdata=None, data={"name": campaign.name, **digests.settings_of(campaign).as_dict()})
    else:
        form = DigestForm(formdata=None, data={"name": _("Supply and demand digest"),
                                               **digests.DigestSettings().as_dict()})
    form.audience.choices = choices(digests.AUDIENCES.items())
    form.visitor_categories.choices = choices((c, label(c)) for c in VISITOR_CATEGORY.codes)
    form.exhibitor_statuses.choices = choices((s, label(s)) for s in digests.CORE_EXHIBITOR_STATUSES)
    return form


def _save_digest(form: DigestForm, campaign: Campaign | None):
    settings = digests.DigestSettings.from_dict(form.settings_dict())
    try:
        if campaign is None:
            campaign = digests.create_digest(current_scope(), g.edition, form.name.data or "", settings,
                                             actor_id=current_user.id)
        else:
            digests.update_digest(campaign, form.name.data or "", settings, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        getattr(form, error.field if error.field and hasattr(form, error.field) else "name").errors.append(str(error))
        return None
    flash(_("Digest saved as a draft. Check who gets it and the sample, then send it."), "success")
    return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))


@bp.route("/org/editions/<int:edition_id>/digests/new", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def new_digest():
    form = _digest_form()
    if form.validate_on_submit():
        done = _save_digest(form, None)
        if done is not None:
            return done
    return render_template("campaigns/digest_form.html", edition=g.edition, form=form, campaign=None)


@bp.route("/org/editions/<int:edition_id>/campaigns/<int:campaign_id>/digest", methods=["GET", "POST"])
@require(VIEW_CAMPAIGNS, MANAGE_CAMPAIGNS, organizer=True)
def edit_digest(campaign_id):
    campaign = _campaign(campaign_id)
    if not digests.is_digest(campaign):
        return redirect(url_for("campaigns.edit_campaign", campaign_id=campaign.id))
    if campaign.status != "draft":
        flash(_("Only a draft can be changed: this campaign is being sent or was sent."), "warning")
        return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    form = _digest_form(campaign)
    if form.validate_on_submit():
        done = _save_digest(form, campaign)
        if done is not None:
            return done
    return render_template("campaigns/digest_form.html", edition=g.edition, form=form, campaign=campaign)


@bp.route("/d/<token>")
def digest_link(token):
    """A digest's tracked link: recorded once, then on to the visitor's page or the exhibitor portal."""
    target = digests.open_link(token)
    if target is None:
        abort(404)
    return redirect(target)
