"""qcapp: classify questions by the answer they expect, and learn from the people who use it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from .config import REPOSITORY_ROOT, load_configuration


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides every other source of settings."""
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("QC_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path or REPOSITORY_ROOT / "instance").resolve()),
        instance_relative_config=True,
        template_folder=str(REPOSITORY_ROOT / "templates"),
        static_folder=str(REPOSITORY_ROOT / "static"),
    )
    load_configuration(app, config)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_sessions(app)
    register_admin(app)
    register_errors(app)
    register_cli(app)
    register_security_headers(app)
    register_proxies(app)
    register_rate_limit(app)
    register_encoder(app)
    return app


def configure_logging(app: Flask) -> None:
    from .logs import configure

    configure(app)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (the models must be known before migrations run)
    from .database import configure_engines
    from .extensions import csrf, db, login_manager, migrate
    from .services.serving.classifier import ModelHolder

    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPOSITORY_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    configure_engines(app)
    app.extensions["qc_models"] = ModelHolder(app)


def register_blueprints(app: Flask) -> None:
    from .auth import bp as auth_bp
    from .home import bp as home_bp
    from .predict import bp as predict_bp
    from .predict.api import bp as api_bp
    from .predict.uploads import UploadSizedRequest

    app.request_class = UploadSizedRequest

    app.register_blueprint(home_bp)
    app.register_blueprint(predict_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp)


def register_sessions(app: Flask) -> None:
    from .auth.sessions import install_sessions

    install_sessions(app)


def register_admin(app: Flask) -> None:
    from .admin import build_admin

    build_admin(app)


def register_errors(app: Flask) -> None:
    from .errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from .cli import qc

    app.cli.add_command(qc)


def register_security_headers(app: Flask) -> None:
    from .security import install_security_headers

    install_security_headers(app)


def register_proxies(app: Flask) -> None:
    from .security import trust_proxies

    trust_proxies(app)


def register_rate_limit(app: Flask) -> None:
    """Limit API requests per client when QC_API_RATE_LIMIT is set (e.g. "5/second").

    The limiter is built per app because it exists only when configured. Its default storage
    is each worker's memory; set QC_RATE_LIMIT_STORAGE_URI (e.g. redis://) to share counts.
    """
    limit = app.config["API_RATE_LIMIT"]
    if not limit:
        return
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATE_LIMIT_STORAGE_URI"],
        headers_enabled=True,
        # While a shared storage (Redis) is unreachable each worker counts in its own memory
        # with the same limits, rather than answering every API request with an error.
        in_memory_fallback_enabled=True,
    )
    limiter.limit(limit)(app.blueprints["api"])


def register_encoder(app: Flask) -> None:
    """Threads of the optional sentence encoder, where its exported graph is kept, and the
    precision of the graphs training stores."""
    from training import configure as configure_training

    configure_training(
        encoder_threads=int(app.config["ENCODER_THREADS"]),
        encoder_precision=str(app.config["ENCODER_PRECISION"]),
        encoder_cache_dir=Path(app.instance_path) / "cache" / "encoders",
        finetune_precision=str(app.config["FINETUNE_PRECISION"]),
    )
