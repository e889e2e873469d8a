"""Products: the exhibitor admin's catalogue in the portal, and the public list of an edition's exhibitors
with their products (the show page's exhibitor entries)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.auth import require
from ..core.forms import Form, choices
from ..core.models import Edition
from ..core.services import ServiceError, category_tree, parse_id
from ..extensions import db
from . import EDIT_COMPANY, portal, products

bp = Blueprint("products", __name__)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProductForm(Form):
    product_id = HiddenField()
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=products.NAME_MAX)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[Optional(), Length(max=products.NAME_MAX)])
    description_en = TextAreaField(_l("Description (English)"),
                                   validators=[Optional(), Length(max=products.DESCRIPTION_MAX)])
    description_zh = TextAreaField(_l("Description (Chinese)"),
                                   validators=[Optional(), Length(max=products.DESCRIPTION_MAX)])
    category_ids = MultiCheckboxField(_l("Categories"), coerce=str, choices=[], validate_choice=False)

    def data_for_service(self) -> products.ProductData:
        return products.ProductData(name_en=self.name_en.data or "", name_zh=self.name_zh.data or "",
                                    description_en=self.description_en.data or "",
                                    description_zh=self.description_zh.data or "",
                                    category_ids=self.category_ids.data or [])


def _form(exhibitor, product=None) -> ProductForm:
    if request.method == "POST":
        form = ProductForm()
    elif product is not None:
        form = ProductForm(formdata=None, obj=product, data={
            "product_id": str(product.id), "category_ids": [str(c.id) for c in product.categories]})
    else:
        form = ProductForm(formdata=None)
    edition = db.session.get(Edition, exhibitor.edition_id)
    form.category_ids.choices = choices((str(c.id), "— " * depth + c.name) for c, depth in category_tree(edition.show))
    return form


@bp.route("/portal/products", methods=["GET", "POST"])
@require(EDIT_COMPANY, exhibitor=True)
def catalogue():
    """The company's products; ``?edit=<id>`` opens one in the form, a POST with ``product_id`` saves it,
    without one adds a product."""
    exhibitor = current_user.exhibitor
    editing = None
    if request.method == "GET" and request.args.get("edit"):
        editing = products.get_product(exhibitor, parse_id(request.args.get("edit")))
        if editing is None:
            abort(404)
    form = _form(exhibitor, editing)
    if form.validate_on_submit():
        product_id = (form.product_id.data or "").strip()
        try:
            if product_id:
                editing = products.get_product(exhibitor, parse_id(product_id))
                if editing is None:
                    raise ServiceError(_("No such product."))
                changed = products.update_product(exhibitor, editing, form.data_for_service(),
                                                  actor_id=current_user.id)
                flash(_("Product saved.") if changed else _("Nothing changed."), "success")
            else:
                editing = products.create_product(exhibitor, form.data_for_service(), actor_id=current_user.id)
                flash(_("Product added. Now add its pictures."), "success")
                return redirect(url_for("products.catalogue", edit=editing.id) + "#pictures")
        except ServiceError as error:
            db.session.rollback()
            field = error.field if error.field and hasattr(form, error.field) else "name_en"
            getattr(form, field).errors.append(str(error))
        else:
            return redirect(url_for("products.catalogue"))
    catalogue_products = products.company_products(exhibitor)
    return render_template("exhibitors/products.html", exhibitor=exhibitor, form=form, editing=editing,
                           products=catalogue_products, limit=products.MAX_PRODUCTS,
                           pictures=portal.pictures_for_products(exhibitor.organizer_id,
                                                                 [p.id for p in catalogue_products]),
                           max_pictures=portal.MAX_PICTURES)


@bp.route("/portal/products/delete", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def delete():
    exhibitor = current_user.exhibitor
    product = products.get_product(exhibitor, parse_id(request.form.get("product_id")))
    if product is None:
        flash(_("No such product."), "error")
    else:
        products.delete_product(exhibitor, product, actor_id=current_user.id)
        flash(_("Product removed: %(name)s", name=product.name()), "success")
    return redirect(url_for("products.catalogue"))


@bp.route("/e/<slug>/exhibitors")
def public_list(slug):
    """The edition's exhibitors and their products, for visitors (no account): search and a category."""
    edition = db.session.scalar(select(Edition).where(Edition.slug == slug, Edition.status != "draft"))
    if edition is None:
        abort(404)
    tree = category_tree(edition.show)
    category_id = parse_id(request.args.get("category"))
    if category_id not in {c.id for c, _depth in tree}:
        category_id = None
    entries = products.public_catalogue(edition, search=request.args.get("q", ""), category_id=category_id)
    profiles = portal.public_profiles(edition.organizer_id, [e.exhibitor.company for e in entries],
                                      str(get_locale()))
    pictures = portal.pictures_for_products(edition.organizer_id, [p.id for e in entries for p in e.products])
    return render_template("exhibitors/products_public.html", edition=edition, entries=entries, tree=tree,
                           category_id=category_id, q=request.args.get("q", "")[:100], profiles=profiles,
                           pictures=pictures)
