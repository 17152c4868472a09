"""Flask-Admin model views; each is read-only unless it has a reason to change data."""

from __future__ import annotations

import json
from datetime import datetime

from flask import abort, render_template, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model import typefmt
from flask_admin.model.template import BaseListRowAction, DeleteRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import inspect, or_
from sqlalchemy.orm import joinedload
from wtforms.validators import ValidationError

from training import SCOPE_REASONS as REASONS
from training import taxonomy

from ..extensions import db
from ..models import AuditEvent, Example, Prediction, Query
from ..services.accounts.accounts import record_event
from ..services.serving.queries import query_path
from ..services.serving.user_text import clean_text, reveal_hidden, rfc3339
from .access import AdminAccessMixin, current_is_admin
from .paging import page_argument

# The target type of the events about accounts (see AuditEventView).
ACCOUNT_EVENTS = "user"


class AdminCSRFForm(FlaskForm):
    """Flask-Admin's forms signed with Flask-WTF's token.

    CSRFProtect checks a ``csrf_token`` field on every POST; Flask-Admin's own SecureForm puts a
    token of another format in that same field, so one of the two checks always failed.
    """

    def __init__(self, formdata=None, obj=None, prefix: str = "", **kwargs) -> None:
        self._obj = obj  # Flask-Admin's unique validator reads the edited object from here
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class ConfirmedDeleteRowAction(BaseListRowAction):
    """A row's delete button that asks first, from our script instead of an inline handler."""

    def render(self, context, row_id, row):
        return Markup(
            render_template(
                "admin/_delete_row.html",
                url=self._resolve_symbol(context, "get_url")(".delete_view"),
                form=context.resolve("delete_form"),
                row_id=row_id,
                return_url=context.resolve("return_url"),
            )
        )


def _shown_text(_view, value: str, _name: str) -> str:
    # Markup comes from our own formatters, already escaped and free of user-typed controls.
    return value if isinstance(value, Markup) else reveal_hidden(value)


def _shown_time(_view, value: datetime, _name: str) -> str:
    return rfc3339(value.replace(microsecond=0))


# Hidden characters in stored text are spelled out (⟦U+202E⟧) so a list cannot read misleadingly.
LIST_FORMATTERS = {**DEFAULT_FORMATTERS, str: _shown_text, datetime: _shown_time}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, str: _shown_text, datetime: _shown_time}


class SecureModelView(AdminAccessMixin, ModelView):
    """A model view behind the login rule whose forms carry a CSRF token."""

    form_base_class = AdminCSRFForm
    page_size = 50
    can_set_page_size = True
    can_view_details = True
    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS

    def _get_list_extra_args(self):
        # Flask-Admin reads ?page= as any integer: a huge one overflowed the SQL OFFSET (500).
        page_argument(first=0)
        return super()._get_list_extra_args()

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        # The ticked rows arrive as text, and PostgreSQL refuses to compare an integer key with
        # text (a 500 on "With selected → Delete"): pass them on as the key's own type.
        key_type = inspect(self.model).primary_key[0].type.python_type
        keys = []
        for value in ids:
            try:
                key = key_type(value)
            except (TypeError, ValueError):
                continue  # not an id of this table: nothing to delete for it
            if key_type is not int or 0 < key < 2**31:  # the database's integer range
                keys.append(key)
        return super().action_delete(tuple(keys))

    def get_list_row_actions(self):
        return [
            ConfirmedDeleteRowAction() if isinstance(action, DeleteRowAction) else action
            for action in super().get_list_row_actions()
        ]


class ReadOnlyModelView(SecureModelView):
    can_create = False
    can_edit = False
    can_delete = False


def _percent(_view, _context, model, name: str) -> str:
    value = _attribute(model, name)
    return "" if value is None else f"{value:.0%}"


def _attribute(model, dotted: str):
    """The value at a dotted path such as ``prediction.coarse_confidence``, or None on the way."""
    value = model
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _corrections_text(_view, _context, model, _name) -> str:
    # A plain string, so the template escapes whatever labels or notes it contains.
    return "; ".join(f"{c.status}:{c.coarse}/{c.fine}" for c in model.corrections)


def _scope_text(_view, _context, model, _name) -> str:
    return "yes" if model.in_scope else f"out of scope ({model.scope_reason or 'unknown'})"


def _label_link(_view, _context, model, _name) -> Markup:
    # Admins label any stored query directly on its inbox card.
    url = url_for("inbox.query", query_id=model.id)
    return Markup('<a href="{}">{} · label</a>').format(url, model.id)


def _public_page_link(_view, _context, model, _name) -> Markup:
    # The token is the query's only public address; the admin may open or share it.
    return Markup('<a href="{0}">{0}</a>').format(query_path(model.token))


def _label_choices(labels) -> list[tuple[str, str]]:
    return [(label, label) for label in labels]


class QueryView(ReadOnlyModelView):
    column_list = (
        "id",
        "created_at",
        "text",
        "prediction.coarse",
        "prediction.fine",
        "prediction.coarse_confidence",
        "in_scope",
        "source",
    )
    column_details_list = (
        "id",
        "token",
        "created_at",
        "text",
        "normalized",
        "in_scope",
        "scope_reason",
        "source",
        "latency_ms",
        "prediction.coarse",
        "prediction.fine",
        "prediction.coarse_confidence",
        "prediction.fine_confidence",
        "prediction.model_version.version",
        "corrections",
    )
    column_labels = {
        "token": "Public page",
        "text": "Question",
        "prediction.coarse": "Coarse",
        "prediction.fine": "Fine",
        "prediction.coarse_confidence": "Confidence",
        "prediction.fine_confidence": "Fine confidence",
        "prediction.model_version.version": "Model version",
        "in_scope": "In scope",
        "scope_reason": "Why out of scope",
    }
    column_choices = {
        "scope_reason": _label_choices(REASONS),
        "prediction.coarse": _label_choices(taxonomy.COARSE_LABELS),
        "prediction.fine": _label_choices(taxonomy.FINE_LABELS),
    }
    column_formatters = {
        "prediction.coarse_confidence": _percent,
        "prediction.fine_confidence": _percent,
        "corrections": _corrections_text,
        "in_scope": _scope_text,
        "id": _label_link,
        "token": _public_page_link,
    }
    column_searchable_list = ("text",)
    column_filters = (
        "prediction.coarse",
        "prediction.fine",
        "created_at",
        "prediction.coarse_confidence",
        "prediction.model_version.version",
        "source",
        "in_scope",
        "scope_reason",
    )
    column_sortable_list = ("id", "created_at", "source")
    column_default_sort = ("id", True)
    named_filter_urls = True  # e.g. ?flt0_coarse_equals=HUM, readable and linkable

    def get_query(self):
        # Eager-load what each row shows: one query per page instead of one per row.
        return (
            super()
            .get_query()
            .options(joinedload(Query.prediction).joinedload(Prediction.model_version))
        )


class ExampleView(SecureModelView):
    # Reviewers label examples; deleting training data is an admin's decision.
    @property
    def can_delete(self) -> bool:
        return current_is_admin()

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        if not current_is_admin():
            abort(403, description="Only an admin may delete examples.")
        return super().delete_view()

    def delete_model(self, model):
        if not current_is_admin():
            abort(403, description="Only an admin may delete examples.")
        return super().delete_model(model)

    column_list = ("id", "text", "coarse", "fine", "source", "dataset.name", "updated_at")
    column_labels = {"dataset.name": "Dataset"}
    column_searchable_list = ("text",)
    column_filters = ("coarse", "fine", "source", "dataset.name")
    column_select_related_list = (Example.dataset,)
    column_default_sort = ("id", True)
    form_columns = ("text", "coarse", "fine", "dataset")
    form_choices = {
        "coarse": _label_choices(taxonomy.COARSE_LABELS),
        "fine": _label_choices(taxonomy.FINE_LABELS),
    }

    def on_model_change(self, form, model, is_created):
        from training import normalise_question

        model.text = clean_text(model.text or "").strip()
        if not model.text:
            raise ValidationError("An example needs a question.")
        if not taxonomy.is_valid_pair(model.coarse, model.fine):
            raise ValidationError(f"{model.fine} is not a fine class of {model.coarse}.")
        model.normalized = normalise_question(model.text)[:600]
        details = {"text": model.text, "coarse": model.coarse, "fine": model.fine}
        if is_created:
            db.session.flush()  # the audit event names the new row's id
        else:
            details["before"] = _previous_values(model, ("text", "coarse", "fine"))
        record_event(
            current_user.username,
            "example_created" if is_created else "example_edited",
            "example",
            model.id,
            details,
        )

    def on_model_delete(self, model):
        record_event(
            current_user.username,
            "example_deleted",
            "example",
            model.id,
            {"text": model.text, "coarse": model.coarse, "fine": model.fine},
        )


def _previous_values(model, names: tuple[str, ...]) -> dict:
    """The values of ``names`` that an unflushed edit is about to replace."""
    state = inspect(model)
    previous = {}
    for name in names:
        history = state.attrs[name].history
        if history.deleted:
            previous[name] = history.deleted[0]
    return previous


def _details_json(_view, _context, model, _name) -> str:
    return json.dumps(model.details or {}, ensure_ascii=False, sort_keys=True, default=str)


class AuditEventView(ReadOnlyModelView):
    """The audit log. Reviewers read what happened to the data; what happened to the accounts
    (logins, failed logins with the name typed, which is often a password typed in the wrong
    box, accounts created, disabled or changed) is for admins only."""

    column_list = ("created_at", "actor", "action", "target_type", "target_id", "details")
    column_filters = ("action", "actor", "target_type", "target_id", "created_at")
    column_searchable_list = ("target_id",)
    column_formatters = {"details": _details_json}
    column_default_sort = ("id", True)

    def _visible(self, query):
        if current_is_admin():
            return query
        return query.filter(
            or_(AuditEvent.target_type.is_(None), AuditEvent.target_type != ACCOUNT_EVENTS)
        )

    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def get_one(self, id):
        event = super().get_one(id)
        if event is not None and event.target_type == ACCOUNT_EVENTS and not current_is_admin():
            return None
        return event
