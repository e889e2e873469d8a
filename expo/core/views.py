"""Sign-in, profile and API tokens, language switch, and the organizer's shows and editions."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from . import MANAGE_SHOWS, VIEW_AUDIT, VIEW_OUTBOX, services
from .auth import client_ip, current_scope, edition_scoped, require
from .forms import CategoryForm, EditionForm, LoginForm, ShowForm, StatusForm, TokenForm, choices
from .models import EDITION_STATUS, Category, Show
from .paging import page_number, page_size
from .permissions import has_permission
from .registry import registry
from .scoping import get_scoped_or_404

bp = edition_scoped(Blueprint("core", __name__))


@bp.route("/")
def home():
    """Visitors get the public front door (a module's ``front_door`` hook); staff their first page."""
    if not current_user.is_authenticated:
        for front_door in registry.hook("front_door"):
            return front_door()
        return redirect(url_for("core.login"))
    area = "exhibitor" if current_user.is_exhibitor_staff else "organizer"
    for entry in registry.nav(area):
        if entry.permission is None or has_permission(current_user, entry.permission):
            return redirect(url_for(entry.endpoint))
    abort(403)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            services.record_failed_sign_in(form.email.data, ip=client_ip())
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user)
            services.audit("user.login", organizer_id=user.organizer_id, user_id=user.id, ip=client_ip())
            return redirect(_safe_next())
    return render_template("core/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.audit("user.logout", organizer_id=current_user.organizer_id, user_id=current_user.id, ip=client_ip())
    logout_user()
    return redirect(url_for("core.login"))


@bp.route("/lang/<code>")
def set_language(code):
    if code not in ("en", "zh_CN"):
        abort(404)
    session["lang"] = code
    return redirect(_safe_next())


def _safe_next() -> str:
    """``?next=`` when it is a path of this site, else home. Browsers read "/\\host" as "//host" and skip
    tabs and newlines in URLs, so those are normalised before the look; anything with a scheme or a host
    is refused."""
    target = request.args.get("next", "")
    seen = "".join(ch for ch in target.replace("\\", "/") if ch >= " " and ch != "\x7f")
    parts = urlsplit(seen)
    if not seen.startswith("/") or seen.startswith("//") or parts.scheme or parts.netloc:
        return url_for("core.home")
    return seen


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.create_api_token(current_user, form.name.data)
        form = TokenForm(formdata=None)
    return render_template("core/profile.html", form=form, new_token=new_token,
                           tokens=services.user_tokens(current_user))


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    try:
        services.revoke_api_token(current_user, token_id)
    except services.ServiceError:
        abort(404)
    flash(_("Token revoked."), "success")
    return redirect(url_for("core.profile"))


# --- organizer: shows and editions ---------------------------------------------------------------

@bp.route("/org")
@require(organizer=True)
def dashboard():
    scope = current_scope()
    return render_template("core/dashboard.html", shows=services.shows(scope), editions=services.editions(scope))


@bp.route("/org/shows/new", methods=["GET", "POST"])
@require(MANAGE_SHOWS, organizer=True)
def new_show():
    form = ShowForm()
    if form.validate_on_submit():
        show = services.create_show(current_scope(), form.name.data)
        return redirect(url_for("core.show", show_id=show.id))
    return render_template("core/show_new.html", form=form)


@bp.route("/org/shows/<int:show_id>", methods=["GET", "POST"])
@require(organizer=True, POST=MANAGE_SHOWS)
def show(show_id):
    scope = current_scope()
    show = get_scoped_or_404(Show, show_id, scope)
    tree = services.category_tree(show)
    form = CategoryForm()
    form.parent_id.choices = choices([(0, "—")] + [(c.id, "— " * depth + c.name) for c, depth in tree])
    if form.validate_on_submit():
        parent = get_scoped_or_404(Category, form.parent_id.data, scope) if form.parent_id.data else None
        try:
            services.add_category(scope, show, form.name.data, parent)
        except services.ServiceError as error:
            form.name.errors.append(str(error))
        else:
            return redirect(url_for("core.show", show_id=show.id))
    return render_template("core/show.html", show=show, tree=tree, form=form)


@bp.route("/org/shows/<int:show_id>/editions/new", methods=["GET", "POST"])
@require(MANAGE_SHOWS, organizer=True)
def new_edition(show_id):
    scope = current_scope()
    show = get_scoped_or_404(Show, show_id, scope)
    form = EditionForm()
    if form.validate_on_submit():
        try:
            edition = services.create_edition(scope, show, form.name.data, form.starts_on.data, form.ends_on.data,
                                              venue=form.venue.data or "", timezone=form.timezone.data.strip(),
                                              description=form.description.data or "",
                                              consent_text=form.consent_text.data or "")
        except services.ServiceError as error:
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            return redirect(url_for("core.edition", edition_id=edition.id))
    return render_template("core/edition_new.html", form=form, show=show)


@bp.route("/org/editions/<int:edition_id>", methods=["GET", "POST"])
@require(organizer=True, POST=MANAGE_SHOWS)
def edition():
    edition = g.edition
    form = StatusForm(status=edition.status)
    form.status.choices = choices((s.code, s.label) for s in [edition.status_state,
                                                               *EDITION_STATUS.next_states(edition.status)])
    if form.validate_on_submit():
        try:
            services.set_edition_status(edition, form.status.data, actor_id=current_user.id)
        except services.ServiceError as error:
            form.status.errors.append(str(error))
        else:
            flash(_("Status changed."), "success")
            return redirect(url_for("core.edition"))
    panels = [panel for hook in registry.hook("edition_dashboard")
              if (panel := hook(current_scope(), edition)) is not None]
    public_url = next((url for hook in registry.hook("public_page_url") if (url := hook(edition))), None)
    return render_template("core/edition.html", edition=edition, form=form, panels=panels, public_url=public_url)


@bp.route("/org/audit")
@require(VIEW_AUDIT, organizer=True)
def audit_log():
    args = request.args
    log = services.audit_log(current_scope(), user_id=args.get("user", type=int), action=args.get("action"),
                             since=args.get("since"), until=args.get("until"),
                             page=args.get("page", 1, type=int), per_page=args.get("per_page", 50, type=int))
    return render_template("core/audit.html", log=log)


@bp.route("/org/outbox")
@require(VIEW_OUTBOX, organizer=True)
def outbox():
    page = services.outbox_page(current_scope(), page=page_number(request.args.get("page")),
                                per_page=page_size(request.args.get("per_page")))
    return render_template("core/outbox.html", messages=page.items, page=page)


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
