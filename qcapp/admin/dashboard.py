"""The admin index: today's numbers and totals."""

from __future__ import annotations

from flask_admin import AdminIndexView, expose

from ..services.stats import collect_stats
from .access import AdminAccessMixin


class DashboardView(AdminAccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/dashboard.html", stats=collect_stats())
