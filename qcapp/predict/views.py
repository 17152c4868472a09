"""The classify form, the result page of a stored query, and the batch upload page."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from training import taxonomy

from ..models import CorrectionKind, Query
from ..services.accounts.roles import current_user_is_admin
from ..services.learning.provenance import correction_outcomes
from ..services.review.feedback import InvalidCorrection, is_reviewed, propose_correction
from ..services.review.label_help import labels_with_help
from ..services.serving.batch import (
    MAX_BATCH_ROWS,
    BatchError,
    BatchTable,
    check_file_name,
    read_table,
)
from ..services.serving.batch_jobs import (
    advance_batch_job,
    batch_job_csv,
    batch_job_problems,
    create_batch_job,
    get_batch_job,
)
from ..services.serving.doubt import doubt_summary, shown_alternatives
from ..services.serving.queries import (
    InvalidQuestion,
    classify_and_record,
    client_fingerprint,
    current_answer,
    prediction_dict,
    query_by_internal_id,
    query_by_token,
    validate_question,
)
from ..services.serving.scope import scope_dict
from . import bp
from .forms import BatchForm, ConfirmForm, CorrectionForm, QuestionForm
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
            return redirect(url_for("predict.show_query", token=item.token), code=303)
    return render_template(
        "home/index.html", form=form, examples=(), taxonomy=taxonomy.as_dict()
    ), 400


def _public_query_or_404(token: str) -> Query:
    query = query_by_token(token)
    if query is None:
        abort(404)
    return query


@bp.get("/q/<token>")
def show_query(token: str):
    query = query_by_token(token)
    if query is None:
        # Old integer addresses stay readable to an admin only; to everyone else nothing is there.
        internal = query_by_internal_id(token) if current_user_is_admin() else None
        if internal is None:
            abort(404)
        return redirect(url_for("predict.show_query", token=internal.token))
    return _query_page(query)


def _query_page(
    query: Query,
    correction_form: CorrectionForm | None = None,
    feedback_error: str | None = None,
    status: int = 200,
):
    """The query's page; after a refused verdict, with the reason and the visitor's choice."""
    prediction = query.prediction
    result = prediction_dict(prediction) if prediction else None
    # Words are highlighted as evidence for a label; an out-of-scope text has no label to show.
    segments = (
        highlight_segments(query.text, result["explanation"]) if result and query.in_scope else []
    )
    labels = [result["coarse"]["label"], result["fine"]["label"]] if result else []
    labels += [alternative["label"] for alternative in result["alternatives"]] if result else []
    version = prediction.model_version.version if prediction and prediction.model_version else None
    served = current_app.extensions["qc_models"].get_or_none
    return render_template(
        "predict/result.html",
        query=query,
        result=result,
        shown=shown_alternatives(result) if result else [],
        doubt=doubt_summary(result) if result else None,
        segments=segments,
        model_version=version,
        form=QuestionForm(),
        # "No, it is wrong" starts with nothing chosen: a preselected model label sent as it
        # stands would say the opposite of "wrong".
        correction_form=correction_form or CorrectionForm(formdata=None),
        feedback_error=feedback_error,
        confirm_form=ConfirmForm(),
        taxonomy=labels_with_help(),
        outcomes=correction_outcomes(query, served),
        definitions={label: taxonomy.describe(label).definition for label in labels},
        scope=scope_dict(query.in_scope, query.scope_reason)["scope"],
        current=current_answer(query.text, served()) if prediction else None,
        reviewed=is_reviewed(query),
    ), status


@bp.get("/batch")
def batch():
    return render_template("predict/batch.html", **_batch_page(BatchForm()))


def _batch_page(form: BatchForm) -> dict:
    return {
        "form": form,
        "max_rows": MAX_BATCH_ROWS,
        "max_bytes": current_app.config["MAX_BATCH_UPLOAD_BYTES"],
    }


def _uploaded_table(form: BatchForm) -> BatchTable:
    """The rows of the uploaded file, or raise BatchError with a message for the form."""
    upload = form.file.data
    check_file_name(upload.filename or "")
    limit = current_app.config["MAX_BATCH_UPLOAD_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise BatchError(f"The file is larger than {limit // (1024 * 1024)} MiB; split it.")
    return read_table(data, upload.filename or "")


@bp.post("/batch")
def batch_upload():
    """The form without JavaScript: the file becomes a batch job whose page classifies it a
    slice per load (``services/serving/batch_jobs.py``), never all in this request."""
    form = BatchForm()
    if form.validate_on_submit():
        try:
            table = _uploaded_table(form)
        except BatchError as error:
            form.file.errors = [str(error)]
        else:
            job = create_batch_job(
                table, form.file.data.filename or "", client_fingerprint(request.remote_addr)
            )
            return redirect(url_for("predict.batch_job", token=job.token), 303)
    return render_template("predict/batch.html", **_batch_page(form)), 400


def _batch_job_or_404(token: str):
    job = get_batch_job(token)
    if job is None:
        abort(404)
    return job


@bp.get("/batch/<token>")
def batch_job(token: str):
    """A batch job's page: it classifies the next slice, then reloads itself until done."""
    job = _batch_job_or_404(token)
    if job.finished_at is None:
        advance_batch_job(job, current_app.extensions["qc_models"].get())
    return render_template("predict/batch_job.html", job=job, problems=batch_job_problems(job))


@bp.get("/batch/<token>/labels.csv")
def batch_job_download(token: str):
    job = _batch_job_or_404(token)
    if job.finished_at is None:
        return redirect(url_for("predict.batch_job", token=job.token), 303)
    return Response(
        batch_job_csv(job),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="qcapp-labels.csv"'},
    )


@bp.post("/batch/parse")
def batch_parse():
    """The rows of an uploaded file as JSON, for the page that classifies them in chunks.

    Always JSON, errors included: the page shows the message whatever the browser accepts."""
    form = BatchForm()
    if not form.validate_on_submit():
        messages = [error for errors in form.errors.values() for error in errors]
        return _json_error(" ".join(map(str, messages)) or "Choose a file.")
    try:
        table = _uploaded_table(form)
    except BatchError as error:
        return _json_error(str(error))
    return jsonify(
        columns=table.columns,
        output_columns=table.output_columns,
        rows=[
            {"line": row.line, "cells": row.cells, "question": row.question, "error": row.error}
            for row in table.rows
        ],
    )


def _json_error(message: str):
    return jsonify(error={"code": "invalid_upload", "message": message}), 400


@bp.post("/q/<token>/correct")
def correct(token: str):
    query = _public_query_or_404(token)
    form = CorrectionForm()
    if not form.validate_on_submit():
        abort(400)
    # The form of an answered question says "it is wrong"; where the page gave no answer (not
    # an English question) it only names the class the question asks for.
    meant = CorrectionKind.CORRECTION if query.in_scope else None
    return _propose(query, form.coarse.data, form.fine.data, meant, form)


@bp.post("/q/<token>/confirm")
def confirm(token: str):
    query = _public_query_or_404(token)
    if not ConfirmForm().validate_on_submit() or query.prediction is None:
        abort(400)
    if not query.in_scope:
        return _query_page(query, feedback_error="This page gave no answer to confirm.", status=400)
    return _propose(
        query, query.prediction.coarse, query.prediction.fine, CorrectionKind.CONFIRMATION
    )


def _propose(
    query: Query, coarse: str, fine: str, meant: str | None, form: CorrectionForm | None = None
):
    """Record a visitor's verdict and return to the query page's feedback section; a refused
    one is answered 4xx with the page, the reason and the visitor's choice kept."""
    try:
        correction = propose_correction(
            query, coarse, fine, client_hash=client_fingerprint(request.remote_addr), meant=meant
        )
    except InvalidCorrection as error:
        status = 409 if error.code == "already_reviewed" else 400
        return _query_page(query, form, feedback_error=error.message, status=status)
    if correction.kind == CorrectionKind.CONFIRMATION:
        flash(
            "Thank you for confirming the label."
            if query.in_scope
            else "Thank you: your label is waiting for review.",
            "success",
        )
    else:
        flash("Thank you: your correction is waiting for review.", "success")
    return redirect(url_for("predict.show_query", token=query.token, _anchor="feedback"), 303)
