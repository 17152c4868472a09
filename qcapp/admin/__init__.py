"""The admin dashboard, built inside the factory so every app gets its own Admin object."""

from __future__ import annotations

from pathlib import Path

import flask_admin
from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from ..extensions import db
from ..models import AuditEvent, Correction, Example, Query
from ..security import csp_nonce
from ..services.serving.user_text import reveal_hidden
from .access import current_is_admin
from .corrections import CorrectionView
from .dashboard import DashboardView
from .inbox import InboxView
from .label_issues import LabelIssuesView
from .review import ReviewQueueView
from .users import UsersView
from .versions import ModelVersionsView, TrainingRunsView
from .views import AuditEventView, ExampleView, QueryView


def build_admin(app: Flask) -> Admin:
    """Create the Admin object with every view behind the shared login rule."""
    admin = Admin(
        app,
        name="qcapp admin",
        index_view=DashboardView(name="Dashboard", url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/qc_base.html"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(InboxView(name="Inbox", endpoint="inbox", url="inbox"))
    admin.add_view(QueryView(Query, db, name="Queries", endpoint="queries"))
    admin.add_view(ReviewQueueView(name="Review queue", endpoint="review", url="review"))
    admin.add_view(CorrectionView(Correction, db, name="Corrections", endpoint="corrections"))
    admin.add_view(ExampleView(Example, db, name="Examples", endpoint="examples"))
    admin.add_view(
        LabelIssuesView(name="Label issues", endpoint="label_issues", url="label-issues")
    )
    admin.add_view(ModelVersionsView(name="Model versions", endpoint="versions", url="versions"))
    admin.add_view(TrainingRunsView(name="Training runs", endpoint="runs", url="runs"))
    admin.add_view(UsersView(name="Users", endpoint="users", url="users"))
    admin.add_view(AuditEventView(AuditEvent, db, name="Audit log", endpoint="audit"))
    # Templates hide what a reviewer may not do; the views refuse it with 403 as well.
    app.jinja_env.globals["is_admin"] = current_is_admin
    # Our templates may override one of Flask-Admin's and still reach the original by prefix.
    library_templates = Path(flask_admin.__file__).parent / "templates" / admin.theme.folder
    app.jinja_env.loader = ChoiceLoader(
        [app.jinja_env.loader, PrefixLoader({"flask-admin": FileSystemLoader(library_templates)})]
    )
    # Admin pages spell out hidden characters in stored text (⟦U+202E⟧): services/serving/user_text.
    app.jinja_env.filters["reveal_hidden"] = reveal_hidden
    # Every admin page shows when the serving model is not the active one, or is missing.
    app.jinja_env.globals["model_problem"] = lambda: app.extensions["qc_models"].problem
    return admin
