"""Forms of the classify pages; Flask-WTF adds the CSRF token to each."""

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired


class QuestionForm(FlaskForm):
    # Length and content rules live in validate_question, shared with the API.
    question = TextAreaField("Your question", validators=[InputRequired("Please type a question.")])

    @property
    def length_rule(self) -> dict:
        """The limit and how characters are counted, for the box's counter: the server's own."""
        from ..services.serving.user_text import counting_patterns

        return {"limit": current_app.config["QUESTION_MAX_LENGTH"], **counting_patterns()}


class BatchForm(FlaskForm):
    file = FileField("CSV or text file of questions", validators=[FileRequired("Choose a file.")])


def _coarse_choices() -> list[tuple[str, str]]:
    from training import taxonomy

    return [("", "Choose…")] + [
        (c.label, f"{c.label} · {c.name}") for c in taxonomy.COARSE_CLASSES.values()
    ]


def _fine_choices() -> list[tuple[str, str]]:
    from training import taxonomy

    return [("", "Choose…")] + [
        (f.label, f"{f.label} · {f.name}") for f in taxonomy.FINE_CLASSES.values()
    ]


class CorrectionForm(FlaskForm):
    # Choices are checked by check_labels in the feedback service, shared with the API.
    coarse = SelectField("Right coarse class", choices=_coarse_choices, validate_choice=False)
    fine = SelectField("Right fine class", choices=_fine_choices, validate_choice=False)


class ConfirmForm(FlaskForm):
    """Confirming the prediction: the labels come from the stored prediction, not the client."""
