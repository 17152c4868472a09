"""The landing page with the question box, the taxonomy page and ``/healthz``."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from training import taxonomy

from ..database import read_only_connection
from ..errors import ServiceUnavailable
from ..predict.forms import QuestionForm
from . import bp

EXAMPLE_QUESTIONS = (
    "Who painted the ceiling of the Sistine Chapel?",
    "How far is the Moon from the Earth?",
    "What does NATO stand for?",
    "Why do cats purr?",
    "Which city hosted the 2012 Summer Olympics?",
    "What is the boiling point of water in Fahrenheit?",
    "What language is spoken in Brazil?",
    "When did the Berlin Wall fall?",
)


@bp.get("/")
def index():
    return render_template(
        "home/index.html",
        form=QuestionForm(),
        examples=EXAMPLE_QUESTIONS,
        taxonomy=taxonomy.as_dict(),
    )


@bp.get("/taxonomy")
def taxonomy_page():
    return render_template("home/taxonomy.html", taxonomy=taxonomy.as_dict())


@bp.get("/healthz")
def healthz():
    body = {
        "status": "ok", "database": "ok",
        "model_version": None, "model_version_id": None, "model_sha256": None,
    }
    try:
        with read_only_connection() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        current_app.logger.error("health check: database unavailable: %s", error)
        body.update(status="unavailable", database="unavailable")
        return jsonify(body), 503
    models = current_app.extensions["qc_models"]
    try:
        loaded = models.get()
        # What this process serves, so a load balancer (or a person) can see every host swap.
        body.update(
            model_version=loaded.version, model_version_id=loaded.id, model_sha256=loaded.sha256
        )
    except ServiceUnavailable as error:
        body.update(status="unavailable", model="unavailable", reason=error.description)
        return jsonify(body), 503
    if models.problem:
        # Still answering, from an older version: say so without failing the check.
        body.update(status="degraded", model="degraded", reason=models.problem)
    return jsonify(body)
