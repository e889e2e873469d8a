from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, FieldList, FormField, SelectField, SelectMultipleField, StringField, TelField
from wtforms import Form as SubForm
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import Form, choices

REGISTERABLE_CATEGORIES = ("buyer", "trade_visitor", "public", "media", "vip")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ColleagueForm(SubForm):
    """One colleague in a group registration (a row of the public form; every field optional until used)."""
    name = StringField(_l("Colleague's full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Colleague's email"), filters=[strip], validators=[Optional(), Email(), Length(max=254)])
    job_title = StringField(_l("Colleague's job title"), validators=[Optional(), Length(max=200)])


MAX_COLLEAGUES = 10  # extra rows of a group registration (policy.MAX_GROUP)


class ColleagueRows(FieldList):
    """The colleague rows. A submit builds only the rows something was typed into (a browser sends all ten,
    mostly empty: building 40 fields per submit for nothing was a fifth of its CPU); an empty row is no
    colleague (policy_views.colleagues_from skips it) and has nothing to validate. ``pad()`` adds the empty
    rows back up to ``max_entries`` when the page is shown (GET, or a submit with errors)."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix) and key[offset - 1:offset] == self._separator:
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isdecimal() and any(str(value).strip() for value in formdata.getlist(key)):
                    yield int(index)

    def pad(self):
        while len(self.entries) < self.max_entries:
            self.append_entry()


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
    # Registration policy: the invitation code (typed, or from the link's ?invite=) and colleagues of a group.
    invitation_code = StringField(_l("Invitation code"), filters=[strip], validators=[Optional(), Length(max=64)])
    colleagues = ColleagueRows(FormField(ColleagueForm), max_entries=MAX_COLLEAGUES)  # pad() before showing
    group_consent = BooleanField(_l("My colleagues agree that I register them; each receives their own badge and "
                                    "can change or cancel their registration"))


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
