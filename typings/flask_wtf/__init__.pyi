# The part of Flask-WTF that alma uses, typed (Flask-WTF ships neither annotations nor stubs);
# the WTForms it builds on is typed by types-WTForms.
from typing import Any

from wtforms import Form

class FlaskForm(Form):
    def __init__(self, formdata: Any = ..., **kwargs: Any) -> None: ...
    def is_submitted(self) -> bool: ...
    def validate_on_submit(self, extra_validators: Any = ...) -> bool: ...
