"""Mixed load on a running server: classify 90%, corrections 9%, history reads 1% (wrk).

Every accepted write is logged by the load script (the question's unique tag for a 200 from
classify, the id for a 201 from corrections); afterwards the database must hold each of them,
and no more than the requests still in flight when wrk stopped.

    python bench/load.py --url http://127.0.0.1:5000 --duration 60 --connections 64

Run it from the repository root with the server's QC_* environment (it reads the same
database through SQLAlchemy). Needs wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = r"""
local counter = 0
local threads = {}
local log

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  log = io.open("%(logdir)s/thread-" .. id .. ".log", "w")
  math.randomseed(id * 7919)
end

local tokens = {%(tokens)s}
local fine = {"HUM:ind", "LOC:city", "NUM:date", "ENTY:animal", "DESC:def", "ABBR:exp"}

request = function()
  local roll = math.random(100)
  if roll <= 90 then
    counter = counter + 1
    local tag = string.format("t%%d-%%d", id, counter)
    return wrk.format("POST", "/api/v1/classify", {["Content-Type"] = "application/json"},
      '{"question": "Who wrote the book called ' .. tag .. '?"}')
  end
  local query = tokens[math.random(#tokens)]
  if roll <= 99 then
    local label = fine[math.random(#fine)]
    local coarse = label:match("^(%%u+)")
    return wrk.format("POST", "/api/v1/queries/" .. query .. "/corrections",
      {["Content-Type"] = "application/json"},
      '{"coarse": "' .. coarse .. '", "fine": "' .. label .. '"}')
  end
  return wrk.format("GET", "/api/v1/queries/" .. query)
end

response = function(status, headers, body)
  -- wrk answers requests on a connection in order, and a thread's connections interleave,
  -- so match responses by what they contain rather than by position.
  if body:find('"question":"Who wrote the book called t', 1, true) and status == 200 then
    local tag = body:match('called (t%%d+%%-%%d+)')
    log:write("Q ", tag, "\n")
  elseif status == 201 then
    log:write("C ", body:match('"id":(%%d+)'), "\n")
  elseif status ~= 200 then
    log:write("E ", status, "\n")
  end
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, \"max_us\": %%d, \"errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout))
end
"""


def app_context():
    from qcapp import create_app

    app = create_app({"LOG_LEVEL": "WARNING"})
    return app, app.app_context()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '5000')}")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")

    from qcapp.extensions import db
    from qcapp.models import Correction, Prediction, Query

    app, context = app_context()
    with context:
        # Stored queries are reached by their tokens: a sample of them to read and correct.
        tokens = db.session.scalars(select(Query.token).order_by(Query.id.desc()).limit(2000))
        tokens = ", ".join(f'"{token}"' for token in tokens) or '"none-stored-yet-0000"'
        before = {
            m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Query, Prediction, Correction)
        }
        db.session.rollback()
    with tempfile.TemporaryDirectory() as logdir:
        script = Path(logdir) / "load.lua"
        script.write_text(LUA % {"logdir": logdir, "tokens": tokens})
        started = time.monotonic()
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                args.url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        elapsed = time.monotonic() - started
        summary = json.loads(re.search(r"^JSON (.*)$", output, re.M).group(1))
        accepted_tags, accepted_corrections, errors = set(), set(), []
        for log in Path(logdir).glob("thread-*.log"):
            for line in log.read_text().splitlines():
                kind, _, value = line.partition(" ")
                if kind == "Q":
                    accepted_tags.add(value)
                elif kind == "C":
                    accepted_corrections.add(int(value))
                else:
                    errors.append(value)
    time.sleep(1.0)
    with context:
        after = {
            m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Query, Prediction, Correction)
        }
        stored_texts = set(
            db.session.scalars(
                select(Query.text).where(Query.text.like("Who wrote the book called t%"))
            ).all()
        )
        stored_corrections = (
            set(
                db.session.scalars(
                    select(Correction.id).where(Correction.id.in_(accepted_corrections))
                ).all()
            )
            if accepted_corrections
            else set()
        )
        dialect = db.engine.dialect.name
    stored_tags = {text.rsplit(" ", 1)[1].rstrip("?") for text in stored_texts}
    lost_queries = accepted_tags - stored_tags
    lost_corrections = accepted_corrections - stored_corrections
    new_queries = after["Query"] - before["Query"]
    print(f"## Mixed load ({dialect}), {args.connections} connections, {args.duration} s")
    print()
    print(
        "| requests | req/s | p50 ms | p99 ms | max ms | socket errors | non-2xx | accepted "
        "classify | accepted corrections | lost writes | unacknowledged stored |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {summary['requests']} | {summary['requests'] / (summary['duration_us'] / 1e6):.0f} | "
        f"{summary['p50_us'] / 1000:.1f} | {summary['p99_us'] / 1000:.1f} | "
        f"{summary['max_us'] / 1000:.1f} | {summary['errors']} | {len(errors)} | "
        f"{len(accepted_tags)} | {len(accepted_corrections)} | "
        f"{len(lost_queries) + len(lost_corrections)} | {new_queries - len(accepted_tags)} |"
    )
    print()
    print(
        f"- queries stored: {new_queries} "
        f"(predictions {after['Prediction'] - before['Prediction']}), "
        f"corrections stored: {after['Correction'] - before['Correction']}; "
        f"wall time {elapsed:.1f} s"
    )
    if errors:
        print(f"- non-2xx statuses: {sorted(set(errors))}")
    if lost_queries or lost_corrections:
        print(f"- LOST: {len(lost_queries)} queries, {len(lost_corrections)} corrections")
        sys.exit(1)


if __name__ == "__main__":
    main()
