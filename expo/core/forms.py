import math
from decimal import Decimal
from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms import IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.validators import NumberRange

from .models import EDITION_STATUSES
from .services import unstorable


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


@lru_cache(maxsize=32)
def _wtforms_translations(locale: str):
    """WTForms' own messages ("Not a valid choice", …) in a language. Flask-WTF reads the catalogue from disk
    on every request (a tenth of a public form submit's CPU); it is package data, so once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """The base of every form: text a database cannot store (a NUL byte, a lone surrogate) and numbers that
    are not finite are errors beside their field, never a 500 at the write."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return FlaskForm.Meta.get_translations(self, form)
            return _wtforms_translations(str(get_locale()))

    def validate(self, extra_validators=None):
        bad_numbers = []
        for field in self:
            data = field.data
            if isinstance(data, (Decimal, float)) and not (data.is_finite() if isinstance(data, Decimal)
                                                            else math.isfinite(data)):  # sNaN: no float
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
    code = StringField(_l("Code from your authenticator app (or a recovery code)"),
                       validators=[Optional(), Length(max=24)])


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                                 description=_l("At least 10 characters; not your email, not a common password."))
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))])


class TwoFactorForm(Form):
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=24)])


class RecoveryCodesForm(Form):
    """New recovery codes: a current code from the app first (its own field name: it shares a page with the
    switch-off form)."""
    app_code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=24)])


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


class ImportUploadForm(Form):
    """An import's first step: what the file holds, where it goes, the file."""

    kind = SelectField(_l("What the file holds"), validators=[DataRequired()])
    edition_id = SelectField(_l("Edition"), coerce=int, validators=[Optional()])
    mapping_id = SelectField(_l("Saved mapping"), coerce=int, validators=[Optional()])

    def file_field_errors(self) -> list:
        return getattr(self, "_file_errors", [])


class ImportMappingForm(Form):
    """The mapping step: one select per file column (read from the request by the view), and a name to save
    the mapping under for the next file."""

    mapping_name = StringField(_l("Save this mapping as"), validators=[Optional(), Length(max=100)])


class ImportRunForm(Form):
    ambiguous = SelectField(_l("Ambiguous rows"), default="skip",
                            choices=choices([("skip", _l("Leave them out (they go to the error report)")),
                                             ("new", _l("Import them as new records"))]))
