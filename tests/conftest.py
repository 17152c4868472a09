"""Shared fixtures: an app on a fresh temporary database per test, its clients, a trained model."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from flask import g

from qcapp import create_app
from qcapp.extensions import db as _db

from helpers import ADMIN_PASSWORD, ADMIN_USERNAME, csrf_token_from

POSTGRES_SERVER = os.environ.get("QC_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_databases():
    """On PostgreSQL, databases holding the schema, handed to one test after another and emptied
    in between: emptying one takes ~0.03 s where creating one takes ~0.45 s, times ~700 tests."""
    if not POSTGRES_SERVER:
        yield None
        return
    from sqlalchemy import create_engine

    pool = PostgresPool(create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT"))
    yield pool
    pool.close()


class PostgresPool:
    """Test databases on one PostgreSQL server: new ones, or used ones emptied for reuse."""

    def __init__(self, server):
        self.server = server
        self.ready: list[str] = []
        self.made: list[str] = []

    def url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)

    def create(self, *, empty: bool = False) -> str:
        """A new database: empty, or with every table of the models (``create_all``)."""
        from sqlalchemy import create_engine, text

        import qcapp.models  # noqa: F401  (every table in the metadata)

        name = f"qc_test_{uuid.uuid4().hex[:12]}"
        with self.server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        if not empty:
            engine = create_engine(self.url(name))
            _db.metadata.create_all(engine)
            engine.dispose()
        return name

    def take(self) -> str:
        return self.ready.pop() if self.ready else self.create()

    def give_back(self, name: str) -> None:
        """Empty the database for the next test; drop it when that fails (a test dropped a
        table, say)."""
        from sqlalchemy import create_engine, text

        try:
            with self.server.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            engine = create_engine(self.url(name))
            tables = ", ".join(f'"{table.name}"' for table in _db.metadata.sorted_tables)
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            engine.dispose()
        except Exception:  # noqa: BLE001
            self.drop(name)
        else:
            self.ready.append(name)

    def drop(self, name: str) -> None:
        from sqlalchemy import text

        with self.server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.drop(name)
        self.server.dispose()


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest, postgres_databases):
    """A fresh database for one test: a SQLite file, or a PostgreSQL database when
    QC_TEST_POSTGRES_URL names a server (e.g. postgresql+psycopg://postgres@127.0.0.1:5433/postgres).

    On PostgreSQL it holds the schema and no row, except for tests of an ``empty_app`` or
    marked ``empty_database`` (migrations), which get a new empty database."""
    if not POSTGRES_SERVER:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    pool = postgres_databases
    if "empty_app" in request.fixturenames or request.node.get_closest_marker("empty_database"):
        name = pool.create(empty=True)
        yield pool.url(name)
        pool.drop(name)
        return
    name = pool.take()
    yield pool.url(name)
    pool.give_back(name)


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MODELS_DIR": str(tmp_path / "models"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MODEL_CHECK_INTERVAL": 0,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)

    @app.before_request
    def forget_request_globals():
        # Tests that hold an app context (the db fixture) share ``g`` across requests, which a
        # server never does; Flask-WTF and Flask-Login would reuse one client's token or user
        # for another client.
        g.pop("csrf_token", None)
        g.pop("_login_user", None)

    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        if not POSTGRES_SERVER:  # a PostgreSQL database is emptied for the next test
            _db.drop_all()
        for engine in _db.engines.values():
            engine.dispose()


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def admin_user(app):
    from qcapp.services.accounts.accounts import create_admin

    with app.app_context():
        create_admin(ADMIN_USERNAME, ADMIN_PASSWORD)
    return ADMIN_USERNAME


@pytest.fixture
def admin_client(app, admin_user):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture(scope="session")
def trained_artifact(tmp_path_factory):
    """One quick model trained on the bundled starter dataset, shared by the whole session."""
    from qcapp.services.data.datasets import starter_dataset_path
    from training.data.datasets import load_dataset
    from training.runtime.artifacts import save_version
    from training.tiers.train import train_model

    models_dir = tmp_path_factory.mktemp("shared-models")
    frame = load_dataset(starter_dataset_path()).frame
    result = train_model(frame, quick=True)
    info = save_version(result, models_dir, "test-quick")
    return info, result


@pytest.fixture
def model_version(app, db, trained_artifact):
    """The session's trained model registered and active in this test's database."""
    from qcapp.models import ModelVersion
    from qcapp.services.learning.versions import activate_model_version

    info, result = trained_artifact
    version = ModelVersion(
        version="test-quick",
        artifact_path=str(info.path),
        artifact_sha256=info.sha256,
        params=result.params,
        metrics=result.metrics,
        dataset_name="starter",
    )
    db.session.add(version)
    activate_model_version(version, reason="test fixture")
    db.session.commit()
    return version
