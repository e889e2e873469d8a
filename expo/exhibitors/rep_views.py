"""Organizer: the sales reps' pages of an edition — assignment rules, my accounts, the Today page of follow-ups,
rep performance. Thin: parse, check access, call assignment / followups / performance, render."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms import widgets
from wtforms.validators import DataRequired, Length, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form, choices
from ..core.permissions import has_permission
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, category_tree, parse_id, unstorable
from ..extensions import db
from . import MANAGE_EXHIBITORS, assignment, followups, performance
from .assignment import ASSIGN_ACCOUNTS, VIEW_REP_PERFORMANCE
from .models import EXHIBITOR_STATUS, WITHDRAWN_STATUSES, Company, Exhibitor
from .rep_models import RULE_KIND, AssignmentRule, FollowUp

bp = edition_scoped(Blueprint("reps", __name__))
PREFIX = "/org/editions/<int:edition_id>/sales"


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RuleForm(Form):
    kind = SelectField(_l("How"), validators=[DataRequired()])
    countries = StringField(_l("Countries (ISO codes)"), validators=[Optional(), Length(max=400)],
                            description=_l("e.g. CN, HK, MO"))
    category_id = SelectField(_l("Industry category"), validators=[Optional()])
    rep_id = SelectField(_l("Sales rep"), validators=[Optional()])
    rep_ids = MultiCheckboxField(_l("Reps taking turns"), validators=[Optional()])


class FollowUpForm(Form):
    exhibitor_id = SelectField(_l("Exhibitor"), validators=[DataRequired()])
    title = StringField(_l("What"), validators=[DataRequired(), Length(max=followups.MAX_TITLE)],
                        description=_l("e.g. Call back about the corner stand"))
    due_on = DateField(_l("Due on"), validators=[DataRequired()])
    due_time = TimeField(_l("Time"), validators=[Optional()])
    rep_id = SelectField(_l("Sales rep"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=followups.MAX_NOTE)])


def _may_assign() -> bool:
    return has_permission(current_user, ASSIGN_ACCOUNTS)


def _rep_choice(param: str = "rep") -> tuple[int | None, bool]:
    """The rep a page is about: ?rep=<id> (someone of the team), ?rep=all (the team), else me. Returns
    (rep id or None for everybody, whether the team is shown)."""
    wanted = request.args.get(param, "")
    if wanted == "all":
        return None, True
    rep_id = parse_id(wanted)
    if rep_id is not None and assignment.rep_in_scope(current_scope(), rep_id) is not None:
        return rep_id, False
    return current_user.id, False


def _rep_options(reps, blank: str | None = None):
    pairs = [("", blank)] if blank is not None else []
    return choices(pairs + [(str(u.id), f"{u.name} ({u.email})") for u in reps])


# --- assignment rules ---------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/assignment", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, ASSIGN_ACCOUNTS, organizer=True)
def assignment_page():
    scope, edition = current_scope(), g.edition
    reps = assignment.reps(scope)
    form = RuleForm()
    form.kind.choices = choices((s.code, s.label) for s in RULE_KIND.states.values())
    form.category_id.choices = choices([("", "—")] + [(str(c.id), "\u2003" * depth + c.name)
                                                      for c, depth in category_tree(edition.show)])
    form.rep_id.choices = _rep_options(reps, "—")
    form.rep_ids.choices = _rep_options(reps)
    if form.validate_on_submit():
        data = assignment.RuleData(kind=form.kind.data, rep_id=parse_id(form.rep_id.data),
                                   countries=form.countries.data or "", category_id=parse_id(form.category_id.data),
                                   rep_ids=tuple(i for i in (parse_id(v) for v in form.rep_ids.data or ()) if i))
        try:
            assignment.add_rule(scope, edition, data, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in form else "kind").errors.append(str(error))
        else:
            flash(_("Rule added. New prospects are assigned by it from now on."), "success")
            return redirect(url_for("reps.assignment_page"))
    unassigned = assignment.accounts(scope, edition, None)
    counts = {}
    for e in db.session.scalars(db.select(Exhibitor).where(Exhibitor.edition_id == edition.id,
                                                           Exhibitor.organizer_id == scope.organizer_id,
                                                           Exhibitor.sales_rep_id.is_not(None))):
        counts[e.sales_rep_id] = counts.get(e.sales_rep_id, 0) + 1
    return render_template("exhibitors/reps_assignment.html", edition=edition, form=form,
                           rules=assignment.rules(scope, edition), reps=reps, counts=counts,
                           unassigned=[a for a in unassigned if a.exhibitor.status not in WITHDRAWN_STATUSES],
                           statuses=EXHIBITOR_STATUS, kinds=RULE_KIND)


@bp.route(f"{PREFIX}/assignment/<int:rule_id>/delete", methods=["POST"])
@require(MANAGE_EXHIBITORS, ASSIGN_ACCOUNTS, organizer=True)
def delete_rule(rule_id):
    rule = get_in_edition_or_404(AssignmentRule, rule_id, g.edition.id, current_scope())
    assignment.delete_rule(rule, actor_id=current_user.id)
    flash(_("Rule removed."), "success")
    return redirect(url_for("reps.assignment_page"))


@bp.route(f"{PREFIX}/assignment/<int:rule_id>/move", methods=["POST"])
@require(MANAGE_EXHIBITORS, ASSIGN_ACCOUNTS, organizer=True)
def move_rule(rule_id):
    rule = get_in_edition_or_404(AssignmentRule, rule_id, g.edition.id, current_scope())
    assignment.move_rule(current_scope(), rule, request.form.get("direction", ""), actor_id=current_user.id)
    return redirect(url_for("reps.assignment_page"))


@bp.route(f"{PREFIX}/assignment/apply", methods=["POST"])
@require(MANAGE_EXHIBITORS, ASSIGN_ACCOUNTS, organizer=True)
def apply_rules():
    done = assignment.apply_rules(current_scope(), g.edition, actor_id=current_user.id)
    flash(_("%(n)s exhibitors assigned by the rules.", n=done) if done else
          _("No rule matched the exhibitors waiting for a rep."), "success" if done else "info")
    return redirect(url_for("reps.assignment_page"))


@bp.route(f"{PREFIX}/exhibitors/<int:exhibitor_id>/rep", methods=["POST"])
@require(MANAGE_EXHIBITORS, ASSIGN_ACCOUNTS, organizer=True)
def assign_rep(exhibitor_id):
    """Assign (or reassign, or unassign) an exhibitor by hand."""
    scope = current_scope()
    exhibitor = get_in_edition_or_404(Exhibitor, exhibitor_id, g.edition.id, scope)
    wanted = request.form.get("rep_id", "")
    rep = assignment.rep_in_scope(scope, parse_id(wanted)) if wanted else None
    back = url_for("reps.my_accounts", rep=request.form.get("back_rep") or None) \
        if request.form.get("back") == "accounts" else url_for("reps.assignment_page")
    if wanted and rep is None:
        flash(_("Choose a sales rep of your team."), "error")
        return redirect(back)
    try:
        changed = assignment.assign(exhibitor, rep, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        if changed:
            flash(_("%(company)s now looked after by %(rep)s.", company=exhibitor.company.name, rep=rep.name)
                  if rep else _("%(company)s has no sales rep now.", company=exhibitor.company.name), "success")
    return redirect(back)


# --- my accounts --------------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/accounts")
@require(MANAGE_EXHIBITORS, organizer=True)
def my_accounts():
    scope, edition = current_scope(), g.edition
    rep_id, _team = _rep_choice()
    if request.args.get("rep") == "none":
        rep_id = None
    rows = assignment.accounts(scope, edition, rep_id)
    status = request.args.get("status", "")
    if status in EXHIBITOR_STATUS:
        rows = [a for a in rows if a.exhibitor.status == status]
    reps = assignment.reps(scope)
    rep = next((u for u in reps if u.id == rep_id), None)
    return render_template("exhibitors/reps_accounts.html", edition=edition, accounts=rows, rep=rep, rep_id=rep_id,
                           reps=reps, statuses=EXHIBITOR_STATUS, status=status, may_assign=_may_assign(),
                           total=sum((a.value or 0) for a in rows if a.exhibitor.status not in WITHDRAWN_STATUSES), now=followups.utcnow())


# --- the Today page -------------------------------------------------------------------------------------

def _follow_up_form(scope, edition, rep_id):
    form = FollowUpForm()
    rows = db.session.execute(db.select(Exhibitor.id, Company.name).join(Company)
                              .where(Exhibitor.organizer_id == scope.organizer_id, Exhibitor.edition_id == edition.id,
                                     Exhibitor.status.not_in(WITHDRAWN_STATUSES))
                              .order_by(Exhibitor.sales_rep_id != rep_id, db.func.lower(Company.name))).all()
    form.exhibitor_id.choices = choices((str(i), name) for i, name in rows)
    form.rep_id.choices = _rep_options(assignment.reps(scope), _("The exhibitor's rep"))
    return form


@bp.route(f"{PREFIX}/today")
@require(MANAGE_EXHIBITORS, organizer=True)
def today():
    scope, edition = current_scope(), g.edition
    rep_id, team = _rep_choice()
    if not request.args.get("rep") and _may_assign():  # those who lead the team (owner, manager) see it whole
        rep_id, team = None, True
    form = _follow_up_form(scope, edition, rep_id)
    wanted = parse_id(request.args.get("exhibitor"))
    if wanted is not None and any(c.data == str(wanted) for c in form.exhibitor_id.choices):
        form.exhibitor_id.data = str(wanted)
    if not form.due_on.data:
        form.due_on.data = followups.local_today(edition)
    return _today_page(scope, edition, rep_id, team, form)


def _today_page(scope, edition, rep_id, team, form, status=200):
    page = followups.today_page(scope, edition, rep_id)
    reps = assignment.reps(scope)
    return render_template("exhibitors/reps_today.html", edition=edition, page=page, form=form, team=team,
                           rep=next((u for u in reps if u.id == rep_id), None), rep_id=rep_id, reps=reps,
                           snooze_days=followups.SNOOZE_DAYS, now=followups.utcnow(),
                           names=assignment.rep_names(scope), may_assign=_may_assign()), status


@bp.route(f"{PREFIX}/follow-ups", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def add_follow_up():
    scope, edition = current_scope(), g.edition
    form = _follow_up_form(scope, edition, current_user.id)
    if form.validate_on_submit():
        exhibitor = get_in_edition_or_404(Exhibitor, parse_id(form.exhibitor_id.data), edition.id, scope)
        try:
            follow_up = followups.add_follow_up(scope, exhibitor, form.title.data, form.due_on.data,
                                                at=form.due_time.data, rep_id=parse_id(form.rep_id.data),
                                                note=form.note.data or "", actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in form else "title").errors.append(str(error))
        else:
            flash(_("Follow-up added for %(company)s.", company=exhibitor.company.name), "success")
            return redirect(url_for("reps.today", rep=follow_up.rep_id if follow_up.rep_id != current_user.id
                                    else None))
    flash(_("The follow-up was not added: see the form."), "error")
    return _today_page(scope, edition, current_user.id, False, form, 400)


def _follow_up_or_404(follow_up_id) -> FollowUp:
    follow_up = get_in_edition_or_404(FollowUp, follow_up_id, g.edition.id, current_scope())
    if not followups.can_change(current_user, follow_up, may_assign=_may_assign()):
        abort(403)
    return follow_up


def _back():
    rep = request.form.get("back_rep", "")
    return url_for("reps.today", rep=rep if rep == "all" or parse_id(rep) else None)


@bp.route(f"{PREFIX}/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def follow_up_done(follow_up_id):
    follow_up = _follow_up_or_404(follow_up_id)
    if followups.complete(follow_up, actor_id=current_user.id):
        flash(_("Done: %(title)s", title=follow_up.title), "success")
    return redirect(_back())


@bp.route(f"{PREFIX}/follow-ups/<int:follow_up_id>/reopen", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def follow_up_reopen(follow_up_id):
    follow_up = _follow_up_or_404(follow_up_id)
    try:
        followups.reopen(follow_up, actor_id=current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
    return redirect(_back())


@bp.route(f"{PREFIX}/follow-ups/<int:follow_up_id>/snooze", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def follow_up_snooze(follow_up_id):
    follow_up = _follow_up_or_404(follow_up_id)
    text = request.form.get("days", "")
    try:
        days = int(text) if text.isascii() and text.isdecimal() and len(text) < 3 else 0
        followups.snooze(follow_up, days, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Put off by %(n)s days: %(title)s", n=days, title=follow_up.title), "success")
    return redirect(_back())


# --- rep performance ----------------------------------------------------------------------------------

def _day(text: str | None) -> date | None:
    if not text or len(text) != 10 or unstorable(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2100, 1, 1) else None


@bp.route(f"{PREFIX}/performance")
@require(VIEW_REP_PERFORMANCE, organizer=True)
def rep_performance():
    start, end = _day(request.args.get("from")), _day(request.args.get("to"))
    if start and end and end < start:
        start, end = end, start
    result = performance.rep_performance(current_scope(), g.edition, start=start, end=end)
    return render_template("exhibitors/reps_performance.html", edition=g.edition, result=result,
                           revenue_chart=result.chart(_("Revenue")),
                           area_chart=result.area_chart(_("Booth area (m²)")))

