from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import Form, choices
from .segments import ATTENDED, HISTORY

TRISTATE_CHECKED_IN = (("", _l("Either")), ("yes", _l("Checked in")), ("no", _l("Did not check in")))
TRISTATE_REGISTERED = (("", _l("Either")), ("no", _l("Not registered yet")), ("yes", _l("Already registered")))
BODY_HELP = _l("Plain text. {name} becomes the visitor's name, {link} their registration link (added at the end "
               "when missing). An unsubscribe line is added to every mail.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(Form):
    name = StringField(_l("Campaign name"), validators=[DataRequired(), Length(max=200)])
    attended = SelectField(_l("Visitors of"), choices=choices(ATTENDED.items()), default="previous")
    edition_ids = MultiCheckboxField(_l("Editions"), coerce=int, choices=[], validate_choice=False)
    categories = MultiCheckboxField(_l("Visitor category"), choices=[], validate_choice=False)
    interests = MultiCheckboxField(_l("Interested in (sub-categories included)"), coerce=int, choices=[],
                                   validate_choice=False)
    countries = StringField(_l("Countries (ISO codes, e.g. CN, HK)"), validators=[Optional(), Length(max=300)])
    checked_in = SelectField(_l("At that edition"), choices=choices(TRISTATE_CHECKED_IN), default="")
    history = SelectField(_l("Returning or first-time"), choices=choices(HISTORY.items()), default="")
    registered = SelectField(_l("For this edition"), choices=choices(TRISTATE_REGISTERED), default="no")
    exhibitor_invited = BooleanField(_l("Only visitors invited by an exhibitor"))
    subject_en = StringField(_l("Subject (English)"), validators=[Optional(), Length(max=300)])
    body_en = TextAreaField(_l("Text (English)"), validators=[Optional(), Length(max=20000)], description=BODY_HELP)
    subject_zh = StringField(_l("Subject (Chinese)"), validators=[Optional(), Length(max=300)])
    body_zh = TextAreaField(_l("Text (Chinese)"), validators=[Optional(), Length(max=20000)], description=BODY_HELP)

    def segment_dict(self) -> dict:
        return {"attended": self.attended.data, "edition_ids": self.edition_ids.data or [],
                "categories": self.categories.data or [], "interests": self.interests.data or [],
                "countries": [self.countries.data or ""], "checked_in": self.checked_in.data,
                "history": self.history.data, "registered": self.registered.data,
                "exhibitor_invited": self.exhibitor_invited.data}


class SubscriptionForm(Form):
    """The unsubscribe page's one button (unsubscribe, or subscribe again)."""
    action = SelectField(choices=choices((("unsubscribe", "unsubscribe"), ("resubscribe", "resubscribe"))),
                         default="unsubscribe")


# --- supply-and-demand digests ---------------------------------------------------------------------

class DigestForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    audience = SelectField(_l("Digest for"), choices=[], default="visitors")
    visitor_categories = MultiCheckboxField(_l("Core visitors: these visitor categories"), choices=[],
                                            validate_choice=False)
    returning = BooleanField(_l("and every returning visitor (registered for an earlier edition)"), default=True)
    exhibitor_statuses = MultiCheckboxField(_l("Core exhibitors: these booth-sales stages"), choices=[],
                                            validate_choice=False)
    period_days = IntegerField(_l("Period (days)"), default=7, validators=[NumberRange(min=1, max=90)],
                               description=_l("New exhibitors, products and visitors are those of the last days; "
                                              "a repeating digest goes out again after this many days."))
    top_n = IntegerField(_l("Recommendations per mail"), default=5, validators=[NumberRange(min=0, max=20)])
    repeat = BooleanField(_l("Send again every period"))

    def settings_dict(self) -> dict:
        return {"audience": self.audience.data, "visitor_categories": self.visitor_categories.data or [],
                "returning": self.returning.data, "exhibitor_statuses": self.exhibitor_statuses.data or [],
                "period_days": self.period_days.data, "top_n": self.top_n.data, "repeat": self.repeat.data}
