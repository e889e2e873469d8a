from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from ..core.forms import choices


class LeadForm(FlaskForm):
    rating = SelectField(_l("Rating"), choices=choices([("", "—"), ("hot", "hot"), ("warm", "warm"), ("cold", "cold")]),
                         validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
