"""Request bodies of the batch upload may be larger than any other."""

from __future__ import annotations

from flask import Request, current_app

BATCH_ENDPOINTS = frozenset({"predict.batch_upload", "predict.batch_parse"})
# Room for the multipart envelope and the CSRF field around the file.
FORM_OVERHEAD = 64 * 1024


class UploadSizedRequest(Request):
    """The body limit is MAX_BATCH_UPLOAD_BYTES on the batch routes, MAX_CONTENT_LENGTH elsewhere.

    Decided per route before any code reads the body (CSRF protection reads the form before
    the view runs, so the view itself would be too late to raise the limit)."""

    @property
    def max_content_length(self) -> int | None:
        if self.endpoint in BATCH_ENDPOINTS and current_app:
            return current_app.config["MAX_BATCH_UPLOAD_BYTES"] + FORM_OVERHEAD
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        Request.max_content_length.fset(self, value)
