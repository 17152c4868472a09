"""What the server's arbiter asks of the app before its first worker starts
(``python -m qcapp.server.start``), in a process of its own.

The arbiter itself never imports the app: a worker patches the standard library for gevent
before it imports anything of ours, so every lock the app creates at import is one greenlets
can share. A module imported by the arbiter first would keep a plain thread lock, and a
greenlet waiting on one that another greenlet holds would stop the whole worker.

It also makes sure the scope check's model is in the models folder (``qc setup`` fits it;
a server started without it would otherwise fit it in every worker, inside the first
classification each one answers: 5 s on 2 cores).

Prints one JSON line: whether each worker keeps to a CPU of its own (``PIN_WORKERS``) and the
training runs failed because their process died with the last server. A setting that cannot
be used stops it with its one-line message and exit code 1, as every command does.
"""

from __future__ import annotations

import json


def main() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from .. import create_app
    from ..runs.health import mark_abandoned_runs
    from ..services.serving.scope import ensure_scope_model

    app = create_app()
    with app.app_context():
        try:
            failed = mark_abandoned_runs(grace_seconds=0)
        except SQLAlchemyError as error:
            reason = str(error).splitlines()[0]
            raise SystemExit(
                f"qcapp: the database cannot be read ({reason}); "
                "run `flask --app qcapp db upgrade` first"
            ) from None
        ensure_scope_model(app.config["MODELS_DIR"])
    print(json.dumps({"pin_workers": app.config["PIN_WORKERS"], "abandoned_runs": failed}))


if __name__ == "__main__":
    main()
