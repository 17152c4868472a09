"""Where the API reference page's renderer, Swagger UI, comes from: the pinned PyPI package."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

# The only files the page needs; nothing else of the distribution is served.
REFERENCE_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})
REFERENCE_VERSION = version("swagger-ui-bundle-v2")


def reference_assets_path() -> Path:
    """The folder of Swagger UI's distribution inside the installed package."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))
