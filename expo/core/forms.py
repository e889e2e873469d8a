import math
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms import IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.validators import NumberRange

from .models import EDITION_STATUSES
from .services import unstorable


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class Form(FlaskForm):
    """The base of every form: text a database cannot store (a NUL byte, a lone surrogate) and numbers that
    are not finite are errors beside their field, never a 500 at the write."""

    def validate(self, extra_validators=None):
        bad_numbers = []
        for field in self:
            if isinstance(field.data, (Decimal, float)) and not math.isfinite(field.data):
                field.data = None  # NaN and infinities would break the field's own range checks
                bad_numbers.append(field)
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
            message = None
            if field in bad_numbers:
                message = _l("Enter a number.")
            elif any(isinstance(value, str) and unstorable(value) for value in values):
                message = _l("This text contains characters that cannot be stored.")
            if message:
                field.errors = [*field.errors, message]
                valid = False
        return valid


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class SecondStepForm(Form):
    """After the password: which account (when one email and password open several) and the app's code."""
    account = SelectField(_l("Account"), coerce=int)
    code = StringField(_l("Code from your authenticator app"), validators=[Optional(), Length(max=12)])


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                                 description=_l("At least 10 characters; not your email, not a common password."))
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))])


class TwoFactorForm(Form):
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=12)])


class TokenForm(Form):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])


class ShowForm(Form):
    name = StringField(_l("Show name"), validators=[DataRequired(), Length(max=200)])


class EditionForm(Form):
    name = StringField(_l("Edition name"), validators=[DataRequired(), Length(max=200)])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description on the public show page"), validators=[Optional(), Length(max=5000)])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)])
    consent_text = TextAreaField(_l("Consent text shown to visitors"), validators=[Optional()])


class StatusForm(Form):
    status = SelectField(_l("Status"), choices=choices((s, s) for s in EDITION_STATUSES))


class ConsentForm(Form):
    """A new version of the edition's consent texts (the edition page); earlier versions stay as they were."""
    consent_text = TextAreaField(_l("Consent text shown to visitors"), validators=[DataRequired(), Length(max=20000)])
    sharing_text = TextAreaField(_l("What sharing contact details with exhibitors means"),
                                 validators=[DataRequired(), Length(max=20000)])


class RetentionForm(Form):
    retention_months = IntegerField(_l("Shred visitors' personal data this many months after the last show day"),
                                    validators=[Optional(), NumberRange(min=0, max=1200)])


class CategoryForm(Form):
    name = StringField(_l("Category"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Parent"), coerce=int, default=0)
