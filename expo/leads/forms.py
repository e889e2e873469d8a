from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from ..core.forms import Form, choices


class LeadForm(Form):
    rating = SelectField(_l("Rating"), choices=choices([("", "—"), ("hot", "hot"), ("warm", "warm"), ("cold", "cold")]),
                         validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
