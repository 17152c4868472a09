"""The seam between how a run gets a process (qcapp.runs) and what it does (learning)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from qcapp.runs.launchers import JobQueue, LocalProcess, WaitingStandby, launcher_for
from qcapp.services.learning.settings import RunSettings

from helpers import REPOSITORY_ROOT

ROOT = REPOSITORY_ROOT


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base) if node.level else ""
            if node.module:
                module = f"{module}.{node.module}" if module else node.module
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_learning_never_imports_runs():
    """Arrows go from runs to learning: what a run does knows nothing of its process."""
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "qcapp" / "services" / "learning").rglob("*.py")
        for name in _imported_modules(path)
        if name == "qcapp.runs" or name.startswith("qcapp.runs.")
    }
    assert not offenders


def test_the_import_check_resolves_relative_imports():
    names = _imported_modules(ROOT / "qcapp" / "runs" / "execute.py")
    assert "qcapp.services.learning.settings.RunSettings" in names
    assert "qcapp.runs.health.fail_run" in names


def test_the_placement_module_imports_nothing_of_the_app():
    """gunicorn's arbiter imports it: the app, its models and the database stay out."""
    code = (
        "import sys, qcapp.runs.placement\n"
        "print([m for m in sys.modules if m.startswith(('sqlalchemy', 'qcapp.models', "
        "'qcapp.services', 'training', 'flask_sqlalchemy'))])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("stored", "settings"),
    [
        ({}, RunSettings()),  # a run recorded without settings
        ({"quick": False, "select": False}, RunSettings()),  # the admin's button
        ({"quick": True, "select": False}, RunSettings(quick=True)),
        (
            {"quick": False, "features": "default", "select": True, "dataset": "starter",
             "activate": "never"},
            RunSettings(select=True, features="default", dataset="starter", activate=False),
        ),
        ({"quick": 1, "features": "", "activate": "now", "later": "ignored"},
         RunSettings(quick=True)),
        ({"quick": False, "select": False, "force": True}, RunSettings(force=True)),
    ],
)
def test_run_settings_read_what_runs_stored_before(stored, settings):
    assert RunSettings.from_json(stored) == settings
    assert RunSettings.from_json(None) == RunSettings()


def test_run_settings_are_stored_as_before():
    assert RunSettings().to_json() == {"quick": False, "select": False}
    stored = RunSettings(quick=True, features="default", dataset="starter", activate=False)
    assert stored.to_json() == {
        "quick": True, "select": False, "features": "default", "dataset": "starter",
        "activate": "never",
    }
    assert RunSettings.from_json(stored.to_json()) == stored
    forced = RunSettings(force=True)
    assert forced.to_json() == {"quick": False, "select": False, "force": True}
    assert RunSettings.from_json(forced.to_json()) == forced


def test_the_launcher_is_chosen_from_the_settings(app):
    app.config.update(REDIS_URL=None, TRAINING_STANDBY=True)
    chosen = launcher_for(app)
    assert isinstance(chosen, WaitingStandby) and isinstance(chosen.otherwise, LocalProcess)
    app.config["TRAINING_STANDBY"] = False
    assert isinstance(launcher_for(app), LocalProcess)
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert isinstance(launcher_for(app), JobQueue)


def test_a_job_enqueued_under_the_former_path_still_finds_its_function():
    """A job waits in Redis across a deploy; the worker that takes it runs this code."""
    from rq.utils import import_attribute

    from qcapp.runs import jobs
    from qcapp.runs.launchers import TRAINING_JOB

    assert import_attribute(TRAINING_JOB) is jobs.run_training_job
    assert jobs.FORMER_PATH not in sys.modules
    try:
        jobs.answer_to_former_path()
        assert import_attribute(f"{jobs.FORMER_PATH}.run_training_job") is jobs.run_training_job
    finally:
        sys.modules.pop(jobs.FORMER_PATH, None)
