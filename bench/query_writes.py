"""What storing one query writes: pages of write-ahead log per insert, and each index's size.

Works on a copy of an instance's SQLite database (the original is only read), so run it against
one that has served a while, e.g. after `bench/learn.py --clients 8`:

    python bench/query_writes.py instance/qcapp.db [--inserts 3000] [--without ix_queries_created_at]

Each round copies the database, optionally drops the named indexes from the copy, and inserts
made-up queries one transaction each, as the web workers do (WAL, synchronous=NORMAL, no
automatic checkpoint), then counts the log's frames. Rounds with and without alternate, so both
see the same machine load. Prints the pages of every index of the queries table too.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

WORDS = (
    "what who where when which how many is are was the of in a river city capital country "
    "first largest name called invented wrote born does mean stand for year color animal"
).split()

QUERY_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queries'"
INSERT = (
    "INSERT INTO queries (text, normalized, created_at, client_hash, source, latency_ms, token,"
    " in_scope) VALUES (?, ?, datetime('now'), ?, 'api', 1.0, ?, 1)"
)


def copy_database(source: Path, target: Path) -> sqlite3.Connection:
    """A consistent copy of ``source`` (through SQLite's backup, so a live log is included)."""
    original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    original.backup(copy)
    original.close()
    return copy


def index_pages(connection: sqlite3.Connection) -> dict[str, int]:
    """Pages of each index of the queries table (empty when SQLite lacks the dbstat table)."""
    try:
        rows = connection.execute(
            f"SELECT name, count(*) FROM dbstat WHERE name IN ({QUERY_INDEXES})"
            " GROUP BY name ORDER BY name"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


def measure(source: Path, inserts: int, drop: list[str], seed: int) -> tuple[float, float]:
    """Pages of log per insert and milliseconds per insert, on a fresh copy."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "copy.db"
        connection = copy_database(source, path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        for name in drop:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        rng = random.Random(seed)
        started = time.perf_counter()
        for _ in range(inserts):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) + "?"
            connection.execute(
                INSERT, (text, text.lower(), secrets.token_hex(32), secrets.token_urlsafe(24))
            )
            connection.commit()
        elapsed = time.perf_counter() - started
        frames = Path(f"{path}-wal").stat().st_size // (page_size + 24)
        connection.close()
    return frames / inserts, elapsed / inserts * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--inserts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--without", action="append", default=[], help="index to drop")
    args = parser.parse_args()
    if not args.database.is_file():
        parser.error(f"no database at {args.database}")

    reader = sqlite3.connect(f"file:{args.database}?mode=ro", uri=True)
    try:
        rows = reader.execute("SELECT count(*) FROM queries").fetchone()[0]
        pages = index_pages(reader)
        indexes = [name for (name,) in reader.execute(QUERY_INDEXES)]
    except sqlite3.DatabaseError as error:
        parser.error(f"{args.database} is not a qcapp SQLite database ({error})")
    finally:
        reader.close()
    unknown = sorted(set(args.without) - set(indexes))
    if unknown:
        parser.error(f"no index {', '.join(unknown)} on queries (it has {', '.join(indexes)})")
    print(f"{rows:,} stored queries")
    for name, count in pages.items():
        print(f"  {name}: {count:,} pages")

    variants = [("as it is", [])] + (
        [("without " + ", ".join(args.without), args.without)] if args.without else []
    )
    results: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in variants}
    for round_number in range(args.rounds):
        for label, drop in variants:
            results[label].append(measure(args.database, args.inserts, drop, seed=round_number))
    print("\n| schema | log pages per insert | ms per insert |\n|---|---|---|")
    for label, runs in results.items():
        frames = statistics.median(run[0] for run in runs)
        millis = statistics.median(run[1] for run in runs)
        print(f"| {label} | {frames:.2f} | {millis:.3f} |")


if __name__ == "__main__":
    main()
