from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import choices


class ScanForm(FlaskForm):
    code = StringField(_l("Badge code"), validators=[DataRequired(), Length(max=2000)])
    client_scan_id = HiddenField()
    gate = StringField(_l("Gate"), validators=[Optional(), Length(max=60)])


class LeadForm(FlaskForm):
    rating = SelectField(_l("Rating"), choices=choices([("", "—"), ("hot", "hot"), ("warm", "warm"), ("cold", "cold")]),
                         validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
