"""Migrations build the schema from empty, agree with the models, and go down and up again."""

import pytest
from sqlalchemy import inspect

from qcapp import create_app
from qcapp.extensions import db


@pytest.fixture
def empty_app(app_config):
    return create_app(app_config)


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_upgrade_check_downgrade_upgrade(empty_app):
    runner = empty_app.test_cli_runner()
    assert table_names(empty_app) == set()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    expected = {table.name for table in db.metadata.sorted_tables}
    assert expected <= table_names(empty_app)

    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert table_names(empty_app) <= {"alembic_version"}

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert expected <= table_names(empty_app)


def test_no_index_only_repeats_the_start_of_another(empty_app):
    """An index whose columns begin another index of the same table serves no lookup the
    longer one cannot, and costs every insert a write (unique ones enforce something)."""
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with empty_app.app_context():
        inspector = inspect(db.engine)
        redundant = []
        for table in inspector.get_table_names():
            indexes = [
                (index["name"], tuple(index["column_names"]), index["unique"])
                for index in inspector.get_indexes(table)
            ]
            for name, columns, unique in indexes:
                redundant += [
                    (name, other)
                    for other, longer, _ in indexes
                    if not unique
                    and len(longer) > len(columns)
                    and longer[: len(columns)] == columns
                ]
    assert redundant == []
