from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from .models import EDITION_STATUSES


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])


class ShowForm(FlaskForm):
    name = StringField(_l("Show name"), validators=[DataRequired(), Length(max=200)])


class EditionForm(FlaskForm):
    name = StringField(_l("Edition name"), validators=[DataRequired(), Length(max=200)])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description on the public show page"), validators=[Optional(), Length(max=5000)])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    consent_text = TextAreaField(_l("Consent text shown to visitors"), validators=[Optional()])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices((s, s) for s in EDITION_STATUSES))


class CategoryForm(FlaskForm):
    name = StringField(_l("Category"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Parent"), coerce=int, default=0)
