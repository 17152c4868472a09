"""The qc command group."""

import json

from sqlalchemy import select

from qcapp.models import Query, User


def test_stats_json_last_line(runner, db):
    db.session.add(Query(text="Who?", normalized="who"))
    db.session.commit()
    result = runner.invoke(args=["qc", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output.strip().splitlines()[-1])
    for key in (
        "queries",
        "predictions",
        "corrections_pending",
        "corrections_approved",
        "examples",
        "model_versions",
    ):
        assert key in stats
    assert stats["queries"] == 1 and stats["predictions"] == 0


def test_stats_text(runner, db):
    result = runner.invoke(args=["qc", "stats"])
    assert result.exit_code == 0
    assert "queries" in result.output


def test_create_admin_reads_password_from_stdin(runner, db):
    result = runner.invoke(args=["qc", "create-admin", "alice"], input="a long password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "alice"))
    assert user.check_password("a long password")


def test_create_admin_refuses_short_password_and_duplicates(runner, db):
    result = runner.invoke(args=["qc", "create-admin", "bob"], input="short\n")
    assert result.exit_code == 1 and "at least 8" in result.output
    runner.invoke(args=["qc", "create-admin", "bob"], input="long enough pw\n")
    again = runner.invoke(args=["qc", "create-admin", "bob"], input="long enough pw\n")
    assert again.exit_code == 1 and "already" in again.output


def test_create_admin_takes_no_password_argument(runner, db):
    result = runner.invoke(args=["qc", "create-admin", "carol", "--password", "x"])
    assert result.exit_code == 2
