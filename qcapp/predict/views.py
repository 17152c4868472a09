"""The classify form, the result page of a stored query, and the batch upload page."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from training import taxonomy

from ..extensions import db
from ..models import Query
from ..services.queries import (
    InvalidQuestion,
    classify_and_record,
    client_fingerprint,
    prediction_dict,
    validate_question,
)
from . import bp
from .forms import QuestionForm
from .highlight import highlight_segments


@bp.post("/classify")
def classify():
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            question = validate_question(form.question.data)
        except InvalidQuestion as error:
            form.question.errors = [error.message]
        else:
            model = current_app.extensions["qc_models"].get()
            [item] = classify_and_record(
                [question],
                model,
                source="web",
                client_hash=client_fingerprint(request.remote_addr),
            )
            return redirect(url_for("predict.show_query", query_id=item.query.id), code=303)
    return render_template("home/index.html", form=form, examples=(), taxonomy=taxonomy.as_dict()), 400


@bp.get("/q/<int:query_id>")
def show_query(query_id: int):
    query = db.get_or_404(
        Query, query_id, options=[selectinload(Query.prediction), selectinload(Query.corrections)]
    )
    prediction = query.prediction
    result = prediction_dict(prediction) if prediction else None
    segments = highlight_segments(query.text, result["explanation"]) if result else []
    version = prediction.model_version.version if prediction and prediction.model_version else None
    return render_template(
        "predict/result.html",
        query=query,
        result=result,
        segments=segments,
        model_version=version,
        form=QuestionForm(),
        taxonomy=taxonomy.as_dict(),
    )
