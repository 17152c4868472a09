"""What gunicorn.conf.py does in each worker before its first request."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


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
