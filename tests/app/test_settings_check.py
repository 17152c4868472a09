"""A setting that cannot be used stops the app at start with one clear line, not later."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qcapp import create_app
from qcapp.config import ConfigurationError


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("FLIP_QUERY_LIMIT", "abc", "FLIP_QUERY_LIMIT (QC_FLIP_QUERY_LIMIT or instance/config.py)"
                                    " must be a whole number, not 'abc'"),
        ("FLIP_QUERY_LIMIT", True, "must be a whole number"),
        ("RUN_STALE_SECONDS", "soon", "RUN_STALE_SECONDS (QC_RUN_STALE_SECONDS or instance/"
                                      "config.py) must be a number, not 'soon'"),
        ("TRAINING_IDLE", "maybe", "must be true or false, not 'maybe'"),
        ("FINETUNE_PRECISION", "int9", "must be one of fp32, int8, not 'int9'"),
        ("ENCODER_PRECISION", "fp16", "must be one of fp32, int8"),
        ("ARTIFACT_STORE", "s3", "must be one of database, files"),
    ],
)
def test_an_unusable_setting_stops_the_app_with_its_name(app_config, setting, value, message):
    with pytest.raises(ConfigurationError) as stopped:
        create_app({**app_config, setting: value})
    assert message in str(stopped.value.code)
    assert stopped.value.code.startswith("qcapp: configuration error: ")


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("TRAINING_IDLE", "off", False),
        ("TRAINING_IDLE", 1, True),
        ("RUN_STALE_SECONDS", 45, 45.0),
        ("DEFAULT_DATASET", 2024, "2024"),
    ],
)
def test_usable_spellings_are_taken(app_config, setting, value, expected):
    value = create_app({**app_config, setting: value}).config[setting]
    assert value == expected and type(value) is type(expected)


def test_the_command_line_says_it_in_one_line_and_exits_1(tmp_path):
    environment = {"QC_INSTANCE_PATH": str(tmp_path), "QC_FLIP_QUERY_LIMIT": "lots",
                   "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "qcapp", "qc", "versions", "list"],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "qcapp: configuration error: FLIP_QUERY_LIMIT (QC_FLIP_QUERY_LIMIT or instance/config.py)"
        " must be a whole number, not 'lots'"
    ]
