"""What gunicorn.conf.py does in each worker before its first request."""

from __future__ import annotations

import gc
import os
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from qcapp.runs.placement import worker_cpu

from helpers import REPOSITORY_ROOT

ROOT = REPOSITORY_ROOT


@pytest.fixture(scope="module")
def fitted_scope(tmp_path_factory) -> Path:
    """The shipped scope model, fitted once for the tests that start the arbiter's check."""
    from qcapp.services.serving.scope import ensure_scope_model, scope_digest, scope_model_path
    from training import dump_atomically

    folder = tmp_path_factory.mktemp("scope")
    path = scope_model_path(folder, scope_digest())
    model = ensure_scope_model(folder)  # saved there unless this process already had it
    if not path.exists():
        dump_atomically(model, path)
    return path


def with_scope_model(models_dir: str | Path, fitted: Path) -> None:
    Path(models_dir).mkdir(parents=True, exist_ok=True)
    shutil.copy(fitted, Path(models_dir) / fitted.name)


def test_a_worker_freezes_what_it_imported_before_it_loads_a_model(app, db, monkeypatch):
    """gunicorn.conf.py: a full collection then skips the app's long-lived objects."""
    import qcapp.database

    monkeypatch.setattr(qcapp.database, "checkpoint_in_background", lambda app: None)
    monkeypatch.setitem(app.config, "TRAINING_STANDBY", False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    frozen_before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](SimpleNamespace(wsgi=app))
        assert gc.get_freeze_count() > max(frozen_before, 10_000)
    finally:
        gc.unfreeze()
        app.extensions["qc_models"].stop_watching()


# --- each worker on a CPU of its own --------------------------------------------------------

TWO_CPUS = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


@pytest.mark.parametrize(
    ("cpus", "taken", "workers", "expected"),
    [
        ({0, 1}, [], 2, 0),  # the first worker
        ({0, 1}, [0], 2, 1),  # the second one
        ({0, 1}, [1], 2, 0),  # the replacement of the worker on CPU 0
        ({2, 5, 7}, [2, 7], 3, 5),  # the CPUs the server may use, not 0..n-1
        ({0, 1}, [0, 1], 2, 0),  # a reload: the old workers still run, the new ones spread
        ({0, 1}, [], 3, None),  # more workers than CPUs: all of them free to move
        ({0}, [], 1, None),  # a single CPU: nothing to choose
        ({0, 1, 2, 3}, [None, 0], 2, 1),  # a worker started free is not counted
    ],
)
def test_a_new_worker_takes_the_least_used_cpu(cpus, taken, workers, expected):
    assert worker_cpu(cpus, taken, workers) == expected


@pytest.mark.parametrize(("value", "pinned"), [("true", True), ("false", False), ("off", False)])
def test_the_arbiter_reads_whether_to_pin_with_the_apps_settings(
    app, app_config, monkeypatch, value, pinned, fitted_scope
):
    """QC_PIN_WORKERS is a setting like the others: instance/config.py, QC_*, checked words.
    The arbiter asks a process of its own, which also fails the runs the last server left."""
    from qcapp.extensions import db
    from qcapp.models import TrainingRun

    with app.app_context():
        # A run whose process died with the last server (a pid no process has).
        db.session.add(TrainingRun(status="running", in_progress=True, runner="process",
                                   pid=2**22 + 7, params={}, log=""))
        db.session.commit()
    with_scope_model(Path(app_config["INSTANCE_PATH"]) / "models", fitted_scope)
    monkeypatch.setenv("QC_INSTANCE_PATH", app_config["INSTANCE_PATH"])
    monkeypatch.setenv("QC_DATABASE_URL", app_config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("QC_PIN_WORKERS", value)
    warnings = []
    server = SimpleNamespace(log=SimpleNamespace(warning=lambda *args: warnings.append(args)))
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["when_ready"](server)
    assert server.qc_pin_workers is pinned
    assert warnings and warnings[0][1], "the abandoned run was not reported"
    with app.app_context():
        assert db.session.scalar(db.select(TrainingRun.status)) == "failed"


def test_a_pin_setting_that_is_not_a_flag_stops_the_server(monkeypatch, tmp_path):
    monkeypatch.setenv("QC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("QC_PIN_WORKERS", "maybe")
    with pytest.raises(SystemExit, match="PIN_WORKERS .* must be true or false, not 'maybe'"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))["when_ready"](SimpleNamespace())


@pytest.mark.empty_database
def test_the_arbiter_fits_a_missing_scope_model_before_the_first_worker(
    app_config, monkeypatch, fitted_scope
):
    """Without it every worker would fit its own inside the first classification it answers."""
    from flask_migrate import upgrade

    from qcapp import create_app

    with create_app(app_config).app_context():
        upgrade()
    models = Path(app_config["INSTANCE_PATH"]) / "models"
    assert not (models / fitted_scope.name).exists()
    monkeypatch.setenv("QC_INSTANCE_PATH", app_config["INSTANCE_PATH"])
    monkeypatch.setenv("QC_DATABASE_URL", app_config["SQLALCHEMY_DATABASE_URI"])
    server = SimpleNamespace(log=SimpleNamespace(warning=print))
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["when_ready"](server)
    assert (models / fitted_scope.name).stat().st_size > 0


def test_the_arbiter_never_imports_the_app(monkeypatch, tmp_path, fitted_scope):
    """Every lock the app creates at import must be created after the gevent worker patched
    the standard library: the arbiter, which the workers are forked from, imports none of it."""
    code = (
        "import runpy, sys, types\n"
        "settings = runpy.run_path('gunicorn.conf.py')\n"
        "server = types.SimpleNamespace(log=types.SimpleNamespace(warning=print))\n"
        "settings['when_ready'](server)\n"
        "settings['pre_fork'](types.SimpleNamespace(WORKERS={}, num_workers=2,\n"
        "    qc_pin_workers=server.qc_pin_workers), types.SimpleNamespace())\n"
        "loaded = [name for name in sys.modules if name.startswith(('qcapp.services.serving',\n"
        "    'qcapp.models', 'sqlalchemy', 'training'))]\n"
        "print('LOADED', loaded)\n"
    )
    with_scope_model(tmp_path / "models", fitted_scope)
    monkeypatch.setenv("QC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("QC_DATABASE_URL", f"sqlite:///{tmp_path / 'qc.db'}")
    from flask_migrate import upgrade

    from qcapp import create_app

    with create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qc.db'}"}).app_context():
        upgrade()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


@pytest.mark.skipif(not TWO_CPUS, reason="needs Linux CPU affinity and two CPUs")
@pytest.mark.parametrize("pin", [True, False])
def test_the_arbiter_gives_each_worker_a_cpu_unless_told_not_to(pin):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    server = SimpleNamespace(WORKERS={}, num_workers=2, qc_pin_workers=pin)
    for pid in (101, 102):
        worker = SimpleNamespace()
        settings["pre_fork"](server, worker)
        server.WORKERS[pid] = worker
    chosen = [worker.qc_cpu for worker in server.WORKERS.values()]
    if pin:
        assert sorted(chosen) == sorted(os.sched_getaffinity(0))[:2]
    else:
        assert chosen == [None, None]


def _affinity_and_priority(pid: int) -> tuple[set[frozenset[int]], int, int]:
    threads = os.listdir(f"/proc/{pid}/task")
    affinities = {frozenset(os.sched_getaffinity(int(thread))) for thread in threads}
    return affinities, os.sched_getscheduler(pid), os.getpriority(os.PRIO_PROCESS, pid)


@pytest.mark.skipif(not TWO_CPUS, reason="needs Linux CPU affinity and two CPUs")
def test_a_pinned_worker_starts_training_on_every_cpu_at_a_steady_share(app, monkeypatch):
    """What a pinned worker starts (a standby, a run) leaves the worker's CPU and runs at the
    plain policy and nice TRAINING_NICE_BESIDE_PINNED_WORKERS, all its threads included."""
    from qcapp.runs.placement import lower_training_priority

    server_cpus = os.sched_getaffinity(0)
    code = (
        "import os, sys, threading, time\n"
        "from qcapp.runs.placement import keep_worker_on\n"
        f"keep_worker_on({min(server_cpus)})\n"  # the worker, forked by the arbiter
        "child = os.fork()\n"  # a training process it starts, with a thread of its own
        "if child == 0:\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "print(child, os.environ['QC_SERVER_CPUS'], flush=True)\n"
        "time.sleep(30)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        child, announced = worker.stdout.readline().split()
        child = int(child)
        deadline = time.monotonic() + 10
        while len(os.listdir(f"/proc/{child}/task")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert announced == ",".join(map(str, sorted(server_cpus)))
        assert _affinity_and_priority(child)[0] == {frozenset({min(server_cpus)})}

        monkeypatch.setenv("QC_SERVER_CPUS", announced)  # the worker's environment
        lower_training_priority(app.config, child)

        affinities, policy, nice = _affinity_and_priority(child)
        assert affinities == {frozenset(server_cpus)}
        assert policy == os.SCHED_OTHER
        assert nice == max(os.nice(0), app.config["TRAINING_NICE_BESIDE_PINNED_WORKERS"])
        # Workers free to move: SCHED_IDLE at TRAINING_NICE, the CPUs left as they are.
        monkeypatch.delenv("QC_SERVER_CPUS")
        lower_training_priority(app.config, child)
        affinities, policy, nice = _affinity_and_priority(child)
        assert affinities == {frozenset(server_cpus)}
        assert policy == getattr(os, "SCHED_IDLE", os.SCHED_OTHER)
        assert nice == max(os.nice(0), app.config["TRAINING_NICE"])
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
