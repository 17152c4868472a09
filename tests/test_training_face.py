"""The app uses the model side only through the names ``training`` exports, and those are cheap
to reach: importing the package, or asking for the taxonomy, loads no scientific library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import training

from helpers import REPOSITORY_ROOT

APP = REPOSITORY_ROOT / "qcapp"
APP_FILES = [*sorted(APP.rglob("*.py")), REPOSITORY_ROOT / "gunicorn.conf.py"]
HEAVY = ("sklearn", "scipy", "numpy", "pandas", "joblib", "torch", "onnxruntime")


def training_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every import of ``training`` in a file: line, module, names taken from it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "training" or alias.name.startswith("training."):
                    found.append((node.lineno, alias.name, []))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "training" or node.module.startswith("training."):
                found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def test_the_app_imports_only_what_training_exports() -> None:
    exported = set(training.__all__)
    wrong = []
    for path in APP_FILES:
        where = path.relative_to(REPOSITORY_ROOT)
        for line, module, names in training_imports(path):
            if module != "training":
                wrong.append(f"{where}:{line}: imports the submodule {module}")
            for name in set(names) - exported:
                wrong.append(f"{where}:{line}: imports {name!r}, which training does not export")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_submodule_imports(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import training.runtime.scope\n"
        "from training.tiers.train import train_model\n"
        "from training import taxonomy, runtime\n"
        "def later():\n"
        "    from training.data import datasets\n"
    )
    assert [(module, names) for _, module, names in training_imports(sample)] == [
        ("training.runtime.scope", []),
        ("training.tiers.train", ["train_model"]),
        ("training", ["taxonomy", "runtime"]),
        ("training.data", ["datasets"]),
    ]
    assert "runtime" not in training.__all__


def test_every_exported_name_resolves() -> None:
    assert len(set(training.__all__)) == len(training.__all__)
    for name in training.__all__:
        assert getattr(training, name) is not None, name
    assert set(training.__all__) <= set(dir(training))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        training.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("training.no_such_name resolved")


def test_importing_training_or_its_taxonomy_loads_no_scientific_library() -> None:
    code = (
        "import json, sys\n"
        "import training\n"
        "from training import taxonomy, configure\n"
        "assert taxonomy.FINE_LABELS\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY_ROOT, capture_output=True, text=True,
        check=True,
    )
    assert json.loads(done.stdout) == []


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_training_does_not_import_flask() -> None:
    files = sorted((REPOSITORY_ROOT / "training").rglob("*.py"))
    assert [path for path in files if "flask" in imported_packages(path)] == []
