from collections.abc import Iterable

from wtforms import Field

class FileField(Field): ...

class FileAllowed:
    def __init__(self, upload_set: Iterable[str], message: str | None = ...) -> None: ...
