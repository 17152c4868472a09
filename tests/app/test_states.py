"""States are names in the code and the same strings in the database as before."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from qcapp.models import (
    CorrectionKind,
    CorrectionStatus,
    IssueKind,
    IssueStatus,
    Role,
    RunKind,
    Runner,
    RunStatus,
    RunTask,
    TrainingRun,
    VersionStatus,
)


@pytest.mark.parametrize(
    ("states", "stored"),
    [
        (CorrectionStatus, ["pending", "approved", "rejected", "reverted"]),
        (CorrectionKind, ["correction", "confirmation"]),
        (IssueStatus, ["open", "relabelled", "dismissed"]),
        (IssueKind, ["doubtful", "near_duplicate"]),
        (RunStatus, ["queued", "running", "succeeded", "failed"]),
        (RunTask, ["retrain", "label_scan"]),
        (RunKind, ["refit", "full", "quick"]),
        (Runner, ["process", "queue"]),
        (VersionStatus, ["candidate", "active", "retired"]),
        (Role, ["admin", "reviewer"]),
    ],
)
def test_each_state_names_the_string_stored_before(states, stored):
    assert [state.value for state in states] == stored
    assert all(state == value for state, value in zip(states, stored, strict=True))


def test_a_state_is_written_as_its_string_and_read_back_equal(app, db):
    run = TrainingRun(status=RunStatus.QUEUED, runner=Runner.QUEUE, params={}, log="")
    db.session.add(run)
    db.session.commit()
    stored = db.session.execute(text("SELECT status, runner, task FROM training_runs")).one()
    assert tuple(stored) == ("queued", "queue", "retrain")
    assert all(type(value) is str for value in stored)
    db.session.expire_all()
    again = db.session.get(TrainingRun, run.id)
    assert again.status == RunStatus.QUEUED and again.task == RunTask.RETRAIN
    assert f"{RunStatus.FAILED}" == "failed" and str(VersionStatus.ACTIVE) == "active"
