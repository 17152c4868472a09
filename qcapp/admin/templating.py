"""How the admin site's templates are found: ours first, Flask-Admin's under a prefix, and the
library's base page with ``lang="en"``; and the filters and globals every admin page uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask_admin
from flask import Flask
from flask_admin import Admin
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jinja2.exceptions import TemplateNotFound

from ..services.serving.user_text import reveal_hidden
from .access import current_is_admin

BASE_TEMPLATE = "admin/base.html"


class EnglishBaseLoader(BaseLoader):
    """Flask-Admin's base page with ``lang="en"`` on its ``<html>`` element.

    The library writes that element outside every block, so no template extending the page can
    add the attribute; copying the whole page would freeze the library's asset versions in ours.
    This loader serves the library's own file with the one attribute added, and refuses to
    start when the file no longer has the element it expects.
    """

    def __init__(self, library_templates: Path) -> None:
        self.path = library_templates / BASE_TEMPLATE

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template != BASE_TEMPLATE:
            raise TemplateNotFound(template)
        source = self.path.read_text(encoding="utf-8")
        if source.count("<html>") != 1:
            raise RuntimeError(f"{self.path} has no single <html> element to give lang=\"en\"")
        modified = self.path.stat().st_mtime
        return (
            source.replace("<html>", '<html lang="en">'),
            str(self.path),
            lambda: self.path.stat().st_mtime == modified,
        )


def install_admin_templates(app: Flask, admin: Admin) -> None:
    """Template loaders, filters and globals of the admin pages."""
    library_templates = Path(flask_admin.__file__).parent / "templates" / admin.theme.folder
    # Our templates may override one of Flask-Admin's and still reach the original by prefix.
    app.jinja_env.loader = ChoiceLoader(
        [
            EnglishBaseLoader(library_templates),
            app.jinja_env.loader,
            PrefixLoader({"flask-admin": FileSystemLoader(library_templates)}),
        ]
    )
    # Templates hide what a reviewer may not do; the views refuse it with 403 as well.
    app.jinja_env.globals["is_admin"] = current_is_admin
    # Admin pages spell out hidden characters in stored text (⟦U+202E⟧): services/serving/user_text.
    app.jinja_env.filters["reveal_hidden"] = reveal_hidden
    # Every admin page shows when the serving model is not the active one, or is missing.
    app.jinja_env.globals["model_problem"] = lambda: app.extensions["qc_models"].problem
