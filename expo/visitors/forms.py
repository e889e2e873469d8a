from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import Form, choices

REGISTERABLE_CATEGORIES = ("buyer", "trade_visitor", "public", "media", "vip")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RegistrationForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country (ISO code, e.g. CN)"), filters=[strip],
                          validators=[Optional(), Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. CN."))])
    category = SelectField(_l("I am visiting as"), choices=choices((c, c) for c in REGISTERABLE_CATEGORIES))
    interests = MultiCheckboxField(_l("Interested in"), coerce=int, choices=[])
    share_with_exhibitors = BooleanField(_l("Exhibitors who scan my badge may receive my contact details"))
    consent = BooleanField(_l("I agree"), validators=[DataRequired(_l("Registration needs your consent."))])
    website = StringField(_l("Leave this field empty"))  # the honeypot: people never see it, bots fill it in


class LinkRequestForm(Form):
    """"Didn't get the mail?": the badge link again, to an address that is registered (the page never says)."""
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    website = StringField(_l("Leave this field empty"))  # the honeypot: people never see it, bots fill it in


class PersonForm(Form):
    """Staff correct the stored visitor (name, email, phone, company): the visitor's record, not a registration."""
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), filters=[strip], validators=[Optional(), Email(), Length(max=254)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country (ISO code, e.g. CN)"), filters=[strip],
                          validators=[Optional(), Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. CN."))])
