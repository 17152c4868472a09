"""The admin dashboard, built inside the factory so every app gets its own Admin object."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from ..extensions import db
from ..models import AuditEvent, Correction, Example, Query
from ..security import csp_nonce
from .corrections import CorrectionView
from .dashboard import DashboardView
from .inbox import InboxView
from .label_issues import LabelIssuesView
from .review import ReviewQueueView
from .templating import install_admin_templates
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
    # Ten entries do not fit one line at 1280 px: the records and the models are grouped.
    admin.add_view(InboxView(name="Inbox", endpoint="inbox", url="inbox"))
    admin.add_view(ReviewQueueView(name="Review queue", endpoint="review", url="review"))
    admin.add_view(QueryView(Query, db, name="Queries", endpoint="queries", category="Data"))
    admin.add_view(
        CorrectionView(Correction, db, name="Corrections", endpoint="corrections", category="Data")
    )
    admin.add_view(ExampleView(Example, db, name="Examples", endpoint="examples", category="Data"))
    admin.add_view(
        LabelIssuesView(
            name="Label issues", endpoint="label_issues", url="label-issues", category="Data"
        )
    )
    admin.add_view(
        ModelVersionsView(
            name="Model versions", endpoint="versions", url="versions", category="Models"
        )
    )
    admin.add_view(
        TrainingRunsView(name="Training runs", endpoint="runs", url="runs", category="Models")
    )
    admin.add_view(UsersView(name="Users", endpoint="users", url="users"))
    admin.add_view(AuditEventView(AuditEvent, db, name="Audit log", endpoint="audit"))
    install_admin_templates(app, admin)
    return admin
