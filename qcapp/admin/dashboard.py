"""The admin index: today's numbers, totals, charts, and the CSV exports."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, request, stream_with_context
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from markupsafe import Markup

from training import taxonomy

from ..extensions import db
from ..models import utcnow
from ..services.accounts.accounts import record_event
from ..services.insight.history import (
    HISTORY_COLUMNS,
    TRAINING_COLUMNS,
    history_rows,
    training_set_rows,
    write_csv_lines,
)
from ..services.insight.quality import LiveQuality, collect_live_quality
from ..services.insight.stats import CHART_DAYS, CHART_RANGES, DashboardData, collect_dashboard
from . import charts, quality_charts
from .access import AdminAccessMixin, admin_only


def build_charts(data: DashboardData, quality: LiveQuality) -> dict[str, Markup]:
    """Every dashboard chart as an SVG figure, keyed by its place on the page."""
    coarse = list(taxonomy.COARSE_LABELS)
    return {
        "queries_per_day": charts.bar_chart(
            "chart-queries-per-day",
            f"Queries per day, last {len(data.days)} days",
            data.days,
            data.queries_per_day,
            "queries",
        ),
        "coarse_per_day": charts.stacked_bar_chart(
            "chart-coarse-per-day",
            "Predicted coarse class per day",
            data.days,
            data.coarse_per_day,
        ),
        "correction_rates": charts.rate_chart(
            "chart-correction-rates", "Correction rate by predicted class", data.correction_rates
        ),
        "version_accuracy": charts.line_chart(
            "chart-version-accuracy",
            "Held-out accuracy by model version",
            [version for version, _coarse, _fine in data.version_accuracy],
            {
                "coarse accuracy": [row[1] for row in data.version_accuracy],
                "fine accuracy": [row[2] for row in data.version_accuracy],
            },
        ),
        "confusion": charts.heatmap(
            "chart-confusion", "Predicted vs corrected coarse class", coarse, data.confusion
        ),
        "reliability": quality_charts.reliability_diagram(
            "chart-reliability",
            "Confidence against reviewed verdicts",
            quality.reliability,
            quality.calibration_error,
        ),
        "corrections_per_class": quality_charts.small_multiples(
            "chart-corrections-per-class",
            f"Corrections per day by predicted class, last {len(data.days)} days",
            data.days,
            quality.corrected_classes,
        ),
    }


class DashboardView(AdminAccessMixin, AdminIndexView):
    @expose("/")
    def index(self):
        days = request.args.get("days", str(CHART_DAYS))
        if days not in {str(n) for n in CHART_RANGES}:
            abort(400, f"The charts cover {', '.join(map(str, CHART_RANGES))} days, not {days!r}.")
        data = collect_dashboard(int(days))
        quality = collect_live_quality(data.days)
        return self.render(
            "admin/dashboard.html",
            ranges=CHART_RANGES,
            days=int(days),
            stats=data.totals,
            data=data,
            quality=quality,
            charts=build_charts(data, quality),
        )

    @expose("/export/history.csv")
    @admin_only
    def export_history(self):
        return self._csv_download("history", HISTORY_COLUMNS, history_rows())

    @expose("/export/training-set.csv")
    @admin_only
    def export_training_set(self):
        return self._csv_download("training-set", TRAINING_COLUMNS, training_set_rows())

    def _csv_download(self, name: str, columns: tuple[str, ...], rows: Iterator) -> Response:
        # Exports hold every question users typed, so who took one is worth keeping.
        record_event(current_user.username, "export", "csv", name)
        db.session.commit()
        filename = f"qcapp-{name}-{utcnow():%Y%m%d-%H%M%S}.csv"
        return Response(
            stream_with_context(write_csv_lines(columns, rows)),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
