"""Label-issue scan of a labelled file, through the app's own import and scan, in a scratch database.

Run from the repository root:  python bench/label_issues.py PATH [--top 50] [--json]
Nothing is written to instance/: the database and instance folder live in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from qcapp import create_app  # noqa: E402
from qcapp.extensions import db  # noqa: E402
from qcapp.services.data.datasets import import_dataset  # noqa: E402
from qcapp.services.insight.label_issues import scan_label_issues  # noqa: E402
from qcapp.services.review.label_review import issue_dict, open_issues  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="tutorial CSV or UIUC label file")
    parser.add_argument("--top", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/bench.db",
                "INSTANCE_PATH": f"{scratch}/instance",
                "MODELS_DIR": f"{scratch}/models",
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            db.create_all()
            dataset, _ = import_dataset(args.path, "bench")
            started = time.perf_counter()
            summary = scan_label_issues(dataset, actor="bench")
            wall = time.perf_counter() - started
            issues, total = open_issues(dataset, limit=args.top)
            findings = [issue_dict(issue, rank) for rank, issue in enumerate(issues, 1)]
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    if args.json:
        print(json.dumps({"scan": summary, "wall_seconds": wall, "issues": findings}))
        return
    print(f"{summary['rows']} rows scanned in {wall:.1f} s; {total} open findings")
    for item in findings:
        print(
            f"{item['rank']:>3}  {item['score']:.3f}  {item['kind']:<14}  "
            f"{item['given']} -> {item['suggested']}  {item['question']}"
        )
        if item["other_question"]:
            print(f"{'':>22}~ {item['other_question']}")


if __name__ == "__main__":
    main()
