"""Flask-Admin model views; each is read-only unless it has a reason to change data."""

from __future__ import annotations

from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_login import current_user

from ..services.accounts import record_event
from .access import AdminAccessMixin


class SecureModelView(AdminAccessMixin, ModelView):
    """A model view behind the login rule whose forms carry a CSRF token."""

    form_base_class = SecureForm
    page_size = 50
    can_set_page_size = True
    can_view_details = True


class ReadOnlyModelView(SecureModelView):
    can_create = False
    can_edit = False
    can_delete = False


class QueryView(ReadOnlyModelView):
    column_list = (
        "id",
        "created_at",
        "text",
        "prediction.coarse",
        "prediction.fine",
        "prediction.coarse_confidence",
        "source",
    )
    column_labels = {
        "prediction.coarse": "Coarse",
        "prediction.fine": "Fine",
        "prediction.coarse_confidence": "Confidence",
    }
    column_searchable_list = ("text",)
    column_filters = (
        "created_at",
        "source",
        "prediction.coarse",
        "prediction.fine",
        "prediction.coarse_confidence",
        "prediction.model_version.version",
    )
    column_default_sort = ("id", True)


class CorrectionView(ReadOnlyModelView):
    column_list = ("id", "created_at", "query.text", "kind", "coarse", "fine", "status")
    column_labels = {"query.text": "Question"}
    column_filters = ("status", "kind", "coarse", "fine", "created_at")
    column_default_sort = ("id", True)


class ExampleView(SecureModelView):
    column_list = ("id", "text", "coarse", "fine", "source", "dataset.name", "updated_at")
    column_labels = {"dataset.name": "Dataset"}
    column_searchable_list = ("text",)
    column_filters = ("coarse", "fine", "source", "dataset.name")
    form_columns = ("text", "coarse", "fine", "dataset")

    def on_model_change(self, form, model, is_created):
        from training.io import normalise_question
        from training.taxonomy import is_valid_pair

        if not is_valid_pair(model.coarse, model.fine):
            raise ValueError(f"{model.fine} is not a fine class of {model.coarse}.")
        model.normalized = normalise_question(model.text)[:600]
        record_event(
            current_user.username,
            "example_created" if is_created else "example_edited",
            "example",
            model.id,
            {"text": model.text, "coarse": model.coarse, "fine": model.fine},
        )

    def on_model_delete(self, model):
        record_event(
            current_user.username,
            "example_deleted",
            "example",
            model.id,
            {"text": model.text, "coarse": model.coarse, "fine": model.fine},
        )


class ModelVersionView(ReadOnlyModelView):
    column_list = (
        "version",
        "created_at",
        "status",
        "is_active",
        "feature_set",
        "dataset_name",
        "train_size",
        "training_seconds",
        "created_by",
    )
    column_default_sort = ("id", True)


class TrainingRunView(ReadOnlyModelView):
    column_list = ("id", "created_at", "status", "progress", "message", "started_by", "finished_at")
    column_filters = ("status",)
    column_default_sort = ("id", True)


class UserView(ReadOnlyModelView):
    column_list = ("username", "active", "created_at", "last_login_at")
    column_exclude_list = ("password_hash",)
    column_details_exclude_list = ("password_hash",)


class AuditEventView(ReadOnlyModelView):
    column_list = ("created_at", "actor", "action", "target_type", "target_id", "details")
    column_filters = ("action", "actor", "created_at")
    column_default_sort = ("id", True)
