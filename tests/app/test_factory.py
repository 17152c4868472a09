"""The application factory and where configuration comes from."""

import importlib
import os
import stat
import subprocess
import sys

from qcapp import create_app


def test_config_argument_overrides_defaults(app):
    assert app.config["TESTING"] is True
    assert app.config["SECRET_KEY"] == "test-secret"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_folders_are_at_repository_root(app):
    from helpers import REPOSITORY_ROOT

    assert app.template_folder == str(REPOSITORY_ROOT / "templates")
    assert app.static_folder == str(REPOSITORY_ROOT / "static")


def test_default_instance_folder_is_repository_root():
    from helpers import REPOSITORY_ROOT

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.instance_path == str(REPOSITORY_ROOT / "instance")


def test_environment_variables_override_instance_file(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("QUESTION_MAX_LENGTH = 300\nAPI_BATCH_LIMIT = 7\n")
    monkeypatch.setenv("QC_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("QC_API_BATCH_LIMIT", "9")
    monkeypatch.setenv("QC_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("QC_SECRET_KEY", "from-env")
    app = create_app()
    assert app.config["QUESTION_MAX_LENGTH"] == 300  # instance file
    assert app.config["API_BATCH_LIMIT"] == 9  # environment beats instance file
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["SECRET_KEY"] == "from-env"


def test_default_database_is_sqlite_in_instance(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'qcapp.db'}"
    assert app.config["MODELS_DIR"] == str(tmp_path / "models")


def test_secret_key_generated_once_with_mode_600(tmp_path, monkeypatch):
    monkeypatch.delenv("QC_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 64
    second = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary files left


def test_two_apps_do_not_share_state(tmp_path):
    one = create_app({"SECRET_KEY": "a", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    two = create_app({"SECRET_KEY": "b", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert one.extensions["qc_models"] is not two.extensions["qc_models"]
    assert "admin" in one.blueprints and "admin" in two.blueprints


def test_nothing_happens_at_import(tmp_path):
    # Importing the package must not create files, apps or connections.
    code = (
        "import os, sys; before = set(os.listdir('.')); "
        "import qcapp, qcapp.models, qcapp.cli, training; "
        "from flask import current_app; "
        "assert set(os.listdir('.')) == before; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "QC_INSTANCE_PATH": str(tmp_path / "never")},
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert not (tmp_path / "never").exists()


def test_blueprints_registered(app):
    assert {"home", "predict", "api", "auth", "admin"} <= set(app.blueprints)
    importlib.import_module("qcapp.extensions")
