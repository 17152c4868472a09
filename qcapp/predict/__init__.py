"""Classify questions: the web pages here, the JSON API in ``api``."""

from flask import Blueprint

bp = Blueprint("predict", __name__)

from . import views  # noqa: E402,F401  (routes attach themselves to bp)
