"""Configuration: defaults here, then ``instance/config.py``, then ``QC_*`` variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Defaults that every installation starts from; every key may be overridden."""

    # Filled in by ``load_configuration`` when left empty.
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    MODELS_DIR: str | None = None

    SQLITE_BUSY_TIMEOUT_MS = 30_000
    # Filled in by ``load_configuration``: a server database gets pool_pre_ping.
    SQLALCHEMY_ENGINE_OPTIONS: dict | None = None

    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_BATCH_UPLOAD_BYTES = 4 * 1024 * 1024
    QUESTION_MAX_LENGTH = 500
    API_BATCH_LIMIT = 100

    MODEL_CHECK_INTERVAL = 2.0
    DEFAULT_DATASET = "starter"
    PROMOTION_MARGIN = 0.01
    # Nice value of the training process (and of its session's share of the CPU when it leads
    # one): it uses only the CPU the web workers leave over.
    TRAINING_NICE = 19
    # Linux: the training process runs under SCHED_IDLE too, so a web worker that wakes up
    # takes the core at once instead of waiting for the end of the trainer's time slice.
    TRAINING_IDLE = True
    # Linux, when gunicorn keeps each web worker on a CPU of its own (gunicorn.conf.py,
    # QC_PIN_WORKERS): the training process's nice value instead of the two above, at the
    # plain policy, so it takes a small steady share of the core it shares with one worker.
    TRAINING_NICE_BESIDE_PINNED_WORKERS = 10
    # Linux, under gunicorn: each web worker keeps to a CPU of its own while there are no
    # more workers than CPUs (gunicorn.conf.py reads it once, before the first worker starts).
    PIN_WORKERS = True
    # Linux: a refit of a lexical version (single-threaded work) runs on one CPU, so it never
    # follows a busy web worker to another core (beside pinned workers it shares the last CPU
    # with one of them).
    TRAINING_REFIT_ONE_CPU = True
    # Under gunicorn, one training process waits, already started and imported, for the next
    # run (about 4 s of CPU that a new process spends before the run's first step).
    TRAINING_STANDBY = True
    # Threads of the sentence encoder in each process (embeddings versions): one per worker,
    # since gunicorn already runs a worker per core.
    ENCODER_THREADS = 1
    # Weights of the encoder graph that training stores in an embeddings version: "fp32" gives
    # sentence-transformers' vectors; "int8" encodes ~2.5x faster for ~0.6 points of accuracy.
    ENCODER_PRECISION = "fp32"
    # Weights of the network graph stored in a fine-tuned version: "fp32", or "int8" (one scale
    # per output channel; about 3x faster to serve, kept only within 0.3 points of float32 on
    # the validation rows; on the tutorial dataset it cost 0.1 coarse / 0.05 fine points).
    FINETUNE_PRECISION = "fp32"
    # Distinct stored questions (the most recent first) that a flip report compares.
    FLIP_QUERY_LIMIT = 100_000
    # More corrections than this from one client within an hour wait for review, flagged.
    CORRECTIONS_BULK_PER_HOUR = 20
    # Distinct clients proposing one label (and nobody another) that make an inbox consensus.
    CONSENSUS_MIN = 3

    LOG_LEVEL = "INFO"
    LOG_FORMAT = "json"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # "auto": the session cookie is Secure on every response to a request that came over HTTPS
    # (directly, or through a trusted proxy that says so); true or false: always, never.
    SESSION_COOKIE_SECURE: str | bool = "auto"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Strict-Transport-Security on responses to HTTPS requests, in seconds; 0 sends none.
    HSTS_MAX_AGE = 365 * 24 * 3600

    # Reverse proxies in front of the app (nginx, a load balancer), each adding the address it
    # was reached from to X-Forwarded-For and the scheme to X-Forwarded-Proto. With 0 (the
    # default) those headers are ignored: a client could write anything in them.
    TRUSTED_PROXIES = 0
    # The address visitors reach the site at (https://qc.example.org), used where a page must
    # show a whole URL; never taken from the request's Host header.
    PUBLIC_URL: str | None = None

    # The web server (qcapp/server/worker.py): a request's line and headers must arrive within
    # this many seconds of the connection, and its body within this many seconds after them;
    # a client slower than that gets 408.
    REQUEST_HEADER_TIMEOUT = 10.0
    REQUEST_BODY_TIMEOUT = 30.0
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Ended after this many seconds without a request, and in any case after the lifetime above.
    SESSION_IDLE_TIMEOUT = 30 * 60

    # Failed logins allowed within the window per (account, client), per client over all
    # accounts, and per account over all clients; beyond each, a delay that doubles per failure.
    LOGIN_MAX_FAILURES = 5
    LOGIN_CLIENT_MAX_FAILURES = 20
    LOGIN_ACCOUNT_MAX_FAILURES = 100
    LOGIN_FAILURE_WINDOW = 15 * 60
    LOGIN_BASE_DELAY = 15
    LOGIN_MAX_DELAY = 5 * 60
    # Where the login throttle counts: the database unless this (or a shared rate-limit
    # storage such as redis://) is set.
    LOGIN_THROTTLE_STORAGE_URI: str | None = None

    # The official UIUC training file (Li & Roth) and its published sha256 (335,858 bytes).
    UIUC_TRAIN_URL = "https://cogcomp.seas.upenn.edu/Data/QA/QC/train_5500.label"
    UIUC_TRAIN_SHA256 = "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3"

    # Host names this site answers to (e.g. ["qc.example.org"]); a request naming another
    # host gets 400, so no link or redirect is ever built from a forged Host header.
    TRUSTED_HOSTS: list[str] | None = None

    API_RATE_LIMIT: str | None = None
    RATE_LIMIT_STORAGE_URI = "memory://"

    # Several hosts. With a Redis URL, retrains run as jobs any host's `qc worker` picks up,
    # and the rate limiter and login throttle count there (unless their storage is set).
    REDIS_URL: str | None = None
    # "database" (blobs every host reads) or "files" (MODELS_DIR); unset: files on SQLite,
    # the database on any other engine.
    ARTIFACT_STORE: str | None = None
    # Artifacts kept by `qc artifacts prune` besides the active, candidate and pinned ones.
    ARTIFACT_KEEP_RETIRED = 3
    # A queued run writes a heartbeat this often; one older than RUN_STALE_SECONDS means its
    # worker died (killed, host lost) and the run is failed.
    RUN_HEARTBEAT_SECONDS = 5.0
    RUN_STALE_SECONDS = 30.0


# Environment variables whose names differ from the Flask key they set.
ENVIRONMENT_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
}


class ConfigurationError(SystemExit):
    """A setting whose value cannot be used: the process stops with this message (exit 1),
    before it serves anything, instead of failing later on a request."""

    def __init__(self, message: str) -> None:
        super().__init__(f"qcapp: configuration error: {message}")


ARTIFACT_STORES = ("database", "files")
LOG_FORMATS = ("json", "text")


FLAG_WORDS = {"1": True, "yes": True, "on": True, "0": False, "no": False, "off": False}


def _named(name: str) -> str:
    return f"{name} (QC_{name} or instance/config.py)"


def check_settings(config: dict) -> None:
    """Every setting whose default is a number, a flag or a word must still be one (``QC_*``
    values arrive as text, parsed as JSON when they can be); numbers given for a float become
    floats and scalars given for a word become text. ConfigurationError names the first
    setting that is not."""
    for name, default in vars(DefaultConfig).items():
        if not name.isupper() or name not in config:
            continue
        value = config[name]
        if isinstance(default, bool):
            word = str(value).strip().lower()
            if not isinstance(value, bool) and word not in FLAG_WORDS:
                raise ConfigurationError(f"{_named(name)} must be true or false, not {value!r}")
            config[name] = value if isinstance(value, bool) else FLAG_WORDS[word]
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(f"{_named(name)} must be a whole number, not {value!r}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigurationError(f"{_named(name)} must be a number, not {value!r}")
            config[name] = float(value)
        elif isinstance(default, str) and isinstance(value, int | float) and not isinstance(
            value, bool
        ):
            config[name] = str(value)
    from training import ENCODER_PRECISIONS as PRECISIONS  # what configure() accepts

    choices = {
        "ENCODER_PRECISION": PRECISIONS,
        "FINETUNE_PRECISION": PRECISIONS,
        "LOG_FORMAT": LOG_FORMATS,
        "ARTIFACT_STORE": ARTIFACT_STORES,
    }
    secure = config.get("SESSION_COOKIE_SECURE")
    if not isinstance(secure, bool) and secure is not None:
        word = str(secure).strip().lower()
        if word != "auto" and word not in FLAG_WORDS:
            raise ConfigurationError(
                f"{_named('SESSION_COOKIE_SECURE')} must be auto, true or false, not {secure!r}"
            )
        config["SESSION_COOKIE_SECURE"] = "auto" if word == "auto" else FLAG_WORDS[word]
    for name in ("TRUSTED_PROXIES", "HSTS_MAX_AGE"):
        if config.get(name, 0) < 0:
            raise ConfigurationError(f"{_named(name)} must be 0 or more, not {config[name]!r}")
    for name in ("REQUEST_HEADER_TIMEOUT", "REQUEST_BODY_TIMEOUT"):
        if name in config and config[name] <= 0:
            raise ConfigurationError(f"{_named(name)} must be more than 0, not {config[name]!r}")
    public_url = config.get("PUBLIC_URL")
    if public_url:
        parts = urlsplit(str(public_url))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigurationError(
                f"{_named('PUBLIC_URL')} must be an http(s) address such as "
                f"https://qc.example.org, not {public_url!r}"
            )
        config["PUBLIC_URL"] = str(public_url).rstrip("/")
    for name, allowed in choices.items():
        value = config.get(name)
        if value is not None and value not in allowed:
            raise ConfigurationError(
                f"{_named(name)} must be one of {', '.join(allowed)}, not {value!r}"
            )


def load_configuration(app: Flask, overrides: dict | None) -> None:
    """Apply defaults, the instance file, ``QC_*`` variables and overrides, in that order."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix="QC")
    for alias, key in ENVIRONMENT_ALIASES.items():
        if alias in app.config:
            app.config[key] = app.config.pop(alias)
    if overrides:
        app.config.update(overrides)
    check_settings(app.config)

    instance = Path(app.instance_path)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'qcapp.db'}"
    if app.config["SQLALCHEMY_ENGINE_OPTIONS"] is None:
        # Pinging a pooled connection before each use catches a restarted database server;
        # a SQLite file cannot go away that way, so there the ping is a wasted query.
        is_sqlite = str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {} if is_sqlite else {"pool_pre_ping": True}
    if not app.config["MODELS_DIR"]:
        app.config["MODELS_DIR"] = str(instance / "models")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = read_or_create_secret_key(instance / "secret_key")
    if isinstance(app.config["TRUSTED_HOSTS"], str):  # QC_TRUSTED_HOSTS=a.example,b.example
        hosts = [host.strip() for host in app.config["TRUSTED_HOSTS"].split(",")]
        app.config["TRUSTED_HOSTS"] = [host for host in hosts if host]
    if app.config["REDIS_URL"] and app.config["RATE_LIMIT_STORAGE_URI"] == "memory://":
        # Counts every host shares; memory:// would give each worker a count of its own.
        app.config["RATE_LIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if app.config["SESSION_COOKIE_SECURE"] is True:
        app.config["REMEMBER_COOKIE_SECURE"] = True


def read_or_create_secret_key(path: Path) -> str:
    """Return the key stored at ``path``, creating it (mode 600) on first start."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    try:
        # A hard link never replaces an existing file, so concurrent workers agree on one key.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
