from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import Form


class ScanForm(Form):
    code = StringField(_l("Badge code"), validators=[DataRequired(), Length(max=2000)])
    client_scan_id = HiddenField()
    gate = StringField(_l("Gate"), validators=[Optional(), Length(max=60)])
