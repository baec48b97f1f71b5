"""``/api/docs``: the API's OpenAPI document, read in Swagger UI served from alma's own static
folder (no CDN), under alma's Content Security Policy."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("api_docs", __name__, url_prefix="/api")


@bp.get("/docs")
def reader() -> ResponseReturnValue:
    return render_template("api/docs.html")
