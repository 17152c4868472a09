"""Forms of the classify pages; Flask-WTF adds the CSRF token to each."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import InputRequired


class QuestionForm(FlaskForm):
    # Length and content rules live in validate_question, shared with the API.
    question = TextAreaField("Your question", validators=[InputRequired("Please type a question.")])


class BatchForm(FlaskForm):
    file = FileField("CSV or text file of questions", validators=[FileRequired("Choose a file.")])
