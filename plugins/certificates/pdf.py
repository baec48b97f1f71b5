"""A certificate as a one-page A4 PDF, rendered by WeasyPrint from an HTML template and a
stylesheet. The operator's ``<instance>/certificates/`` folder comes before the plugin's own
``templates/certificates/pdf/``, file by file: ``certificate.html``, ``certificate.css`` and
``logo.svg`` can each be replaced (see docs/operating.md for the variables).

WeasyPrint is imported at the first render, not with the plugin: with the fonts' and Pango's
bindings it took 0.4 s, a fifth of starting an ``alma`` command with every plugin (and of
every web process), and only the process that runs the render job needs it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from flask import Flask, Response, current_app
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from core.api import external_url, format_when, reading_as
from plugins.certificates.models import Certificate

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

TEMPLATE = "certificate.html"
STYLESHEET = "certificate.css"
BUILT_IN = Path(__file__).parent / "templates" / "certificates" / "pdf"
EXTENSION_KEY = "certificates.pdf"
# WeasyPrint lays text out with Pango, which is not thread-safe (and the font configuration is
# shared): two renders at once in one process corrupt its objects. Renders take turns.
RENDERING = threading.Lock()


def override_folder(app: Flask) -> Path:
    """Where an operator puts their own template, stylesheet or logo."""
    return Path(app.instance_path) / "certificates"


def pdf_download(certificate: Certificate) -> Response:
    """The holder's PDF as a download (the page's and the API's), kept out of caches."""
    return Response(
        certificate.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{certificate.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def verify_url(number: str) -> str:
    return external_url("certificates.verify", number=number)


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF, in its holder's language, its dates on their clock."""
    from weasyprint import HTML

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy of Flask
    tools = _tools(app)
    environment = tools.environment
    with reading_as(certificate.holder):
        html = environment.get_template(TEMPLATE).render(**template_context(certificate))
    assert environment.loader is not None  # _tools gave it the override folder first
    stylesheet = environment.loader.get_source(environment, STYLESHEET)[0]
    with RENDERING:
        document = HTML(string=html, base_url=override_folder(app).as_uri() + "/")
        return document.write_pdf(stylesheets=[tools.parsed(stylesheet)], font_config=tools.fonts)


def template_context(certificate: Certificate) -> dict[str, Any]:
    """The variables of ``certificate.html`` (documented in docs/operating.md)."""
    url = verify_url(certificate.number)
    return {
        "site_name": current_app.config["SITE_NAME"],
        "holder_name": certificate.holder_name,
        "achievement": certificate.achievement,
        "goal_title": certificate.goal_title,
        "completed_on": format_when(certificate.completed_on, "long"),
        "facts": [(label, value) for label, value in certificate.facts],
        "number": certificate.number,
        "verify_url": url,
        "qr_code": qr_code(url),
    }


def qr_code(url: str) -> Markup:
    """The link as a QR code, an inline SVG that takes the size its container gives it."""
    svg = segno.make(url, error="m").svg_inline(
        omitsize=True, dark="#1f2a33", border=0, svgclass="qr-code", lineclass=None
    )
    return Markup(svg)  # segno's own markup: the URL is in the modules


@dataclass
class _Tools:
    """What every render of an app uses: the template environment (Flask's, with the
    override folder first; templates are reloaded when their file changes), WeasyPrint's
    font configuration, and the stylesheet parsed (a sixth of a render), again only when its
    text changes."""

    environment: Environment
    fonts: FontConfiguration
    _stylesheet: tuple[str, CSS] | None = None

    def parsed(self, stylesheet: str) -> CSS:
        from weasyprint import CSS

        if self._stylesheet is None or self._stylesheet[0] != stylesheet:
            self._stylesheet = (stylesheet, CSS(string=stylesheet, font_config=self.fonts))
        return self._stylesheet[1]


def _tools(app: Flask) -> _Tools:
    """The app's :class:`_Tools`, made at its first render."""
    tools: _Tools | None = app.extensions.get(EXTENSION_KEY)
    if tools is None:
        from weasyprint.text.fonts import FontConfiguration

        loader = FileSystemLoader([override_folder(app), BUILT_IN])
        tools = _Tools(app.jinja_env.overlay(loader=loader, auto_reload=True), FontConfiguration())
        app.extensions[EXTENSION_KEY] = tools
    return tools
