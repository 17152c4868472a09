"""Error responses: JSON for API clients, a page for browsers, never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

MESSAGES = {
    400: "The request could not be understood.",
    401: "You need to log in to do this.",
    403: "You are not allowed to do this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request is too large.",
    415: "This content type is not supported.",
    422: "The request was understood but its content is not valid.",
    429: "Too many requests; slow down and try again shortly.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The service is temporarily unavailable.",
}

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ServiceUnavailable(HTTPException):
    """503 with a specific reason, e.g. that no model is loaded."""

    code = 503

    def __init__(self, message: str, code_name: str = "unavailable", retry_after: int = 5):
        super().__init__(message)
        self.code_name = code_name
        self.retry_after = retry_after


def wants_json() -> bool:
    """True for API paths and for clients that prefer JSON over HTML."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(status: int, message: str, code: str | None = None) -> Response:
    """Build the error response in the format the client wants."""
    code = code or CODES.get(status, "error")
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        response = Response(
            render_template("errors/error.html", status=status, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Handle every HTTP error and any unexpected exception."""

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError):
        # No page can be built for a host that is not ours (no URL may name it): plain text.
        message = "This server does not answer to that host name."
        if wants_json():
            response = jsonify(error={"code": "untrusted_host", "message": message})
        else:
            response = Response(message + "\n", mimetype="text/plain")
        response.status_code = 400
        return response

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        message = error.description if error.description else MESSAGES.get(status, error.name)
        # Werkzeug's default descriptions are long; ours read better for the common codes.
        if error.description == type(error).description:
            message = MESSAGES.get(status, error.description)
        response = error_response(status, message, getattr(error, "code_name", None))
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        if error.response is not None and "Retry-After" in error.response.headers:
            response.headers["Retry-After"] = error.response.headers["Retry-After"]
        if status == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(error: Exception):
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, error)
        response = error_response(
            503, "The database is unavailable; try again shortly.", "database_unavailable"
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500], CODES[500])

    @app.errorhandler(InternalServerError)
    def handle_internal(error: InternalServerError):
        app.logger.error("internal error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500], CODES[500])
