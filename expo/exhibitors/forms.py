from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from ..core.forms import Form, choices
from .models import EXHIBITOR_STATUSES


class ExhibitorForm(Form):
    company_name = StringField(_l("Company"), validators=[DataRequired(), Length(max=200)])
    country = StringField(_l("Country (ISO code)"), validators=[Optional(), Length(max=2)])
    hall = StringField(_l("Hall"), validators=[Optional(), Length(max=20)])
    stand = StringField(_l("Stand"), validators=[Optional(), Length(max=20)])
    area_m2 = DecimalField(_l("Area (m²)"), validators=[Optional(), NumberRange(min=1, max=100_000)])
    status = SelectField(_l("Status"), choices=choices((s, s) for s in EXHIBITOR_STATUSES), default="contracted")
    admin_name = StringField(_l("Admin name"), validators=[DataRequired(), Length(max=200)])
    admin_email = EmailField(_l("Admin email"), validators=[DataRequired(), Email()])
    admin_password = PasswordField(_l("Admin password"), validators=[DataRequired(), Length(min=8)])


class CompanyForm(Form):
    """The company profile in both languages: ``name`` and ``description`` are the company's own (English)
    text, ``name_zh`` and ``description_zh`` its Chinese one (exhibitors.portal.save_profile)."""

    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    name_zh = StringField(_l("Company name in Chinese"), validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country (ISO code)"), validators=[Optional(), Length(max=2)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    email = EmailField(_l("Email"), validators=[Optional(), Email()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    description = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=5000)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=5000)])


STAFF_ROLES = ("booth_staff", "exhibitor_admin")


class StaffForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8)])
    role = SelectField(_l("Role"), choices=choices((r, r) for r in STAFF_ROLES))
