"""The login throttle: failed logins counted per (account, client), per client and per account.

After its allowance of failures within the window, each scope makes its next attempt wait
``LOGIN_BASE_DELAY`` seconds after its latest failure, doubling with every further failure up to
``LOGIN_MAX_DELAY``. The per-(account, client) allowance is small and the per-account one much
higher, and the per-account wait applies only to clients that have themselves failed on that
account: one client guessing cannot keep the owner of an account out from another client.
Counts live in the database (every worker sees them), or in the rate limiter's storage (e.g.
Redis) when one is configured; while that storage cannot be reached they are kept in the
database, so a Redis outage neither locks everyone out nor lets guessing run unchecked.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import and_, case, delete, func, or_, select

from ...extensions import db
from ...models import LoginFailure, utcnow

UNKNOWN_CLIENT = "-"


@dataclass(frozen=True)
class Policy:
    """How many failures each scope allows within the window, and how the delay grows."""

    pair_limit: int
    client_limit: int
    account_limit: int
    window: float
    base_delay: float
    max_delay: float

    @classmethod
    def from_config(cls) -> Policy:
        config = current_app.config
        return cls(
            pair_limit=int(config["LOGIN_MAX_FAILURES"]),
            client_limit=int(config["LOGIN_CLIENT_MAX_FAILURES"]),
            account_limit=int(config["LOGIN_ACCOUNT_MAX_FAILURES"]),
            window=float(config["LOGIN_FAILURE_WINDOW"]),
            base_delay=float(config["LOGIN_BASE_DELAY"]),
            max_delay=float(config["LOGIN_MAX_DELAY"]),
        )

    def delay(self, failures: int, limit: int) -> float:
        """Seconds to wait after the latest failure once ``failures`` reached ``limit``."""
        if failures < limit:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** min(failures - limit, 30))


class DatabaseFailures:
    """Failure counts from the ``login_failures`` table."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def wait(self, username: str, client: str) -> float:
        since = utcnow() - timedelta(seconds=self.policy.window)
        pair = and_(LoginFailure.username == username, LoginFailure.client_hash == client)
        mine = LoginFailure.client_hash == client
        account = LoginFailure.username == username
        row = db.session.execute(
            select(
                func.count(case((pair, 1))),
                func.max(case((pair, LoginFailure.created_at))),
                func.count(case((mine, 1))),
                func.max(case((mine, LoginFailure.created_at))),
                func.count(case((account, 1))),
                func.max(case((account, LoginFailure.created_at))),
            ).where(LoginFailure.created_at >= since, or_(mine, account))
        ).one()
        pair_count, pair_last, client_count, client_last, account_count, account_last = row
        now = utcnow()
        waits = [
            self._remaining(now, pair_last, self.policy.delay(pair_count, self.policy.pair_limit)),
            self._remaining(
                now, client_last, self.policy.delay(client_count, self.policy.client_limit)
            ),
        ]
        if pair_count:
            delay = self.policy.delay(account_count, self.policy.account_limit)
            waits.append(self._remaining(now, account_last, delay))
        return max(waits)

    @staticmethod
    def _remaining(now, last, delay: float) -> float:
        if not delay or last is None:
            return 0.0
        if last.tzinfo is None:  # SQLite hands back naive datetimes
            last = last.replace(tzinfo=now.tzinfo)
        return max(0.0, (last + timedelta(seconds=delay) - now).total_seconds())

    def record(self, username: str, client: str) -> None:
        now = utcnow()
        # Rows older than the window no longer count; each failure clears a few of them away.
        db.session.execute(
            delete(LoginFailure).where(
                LoginFailure.created_at < now - timedelta(seconds=self.policy.window)
            )
        )
        db.session.add(LoginFailure(username=username, client_hash=client, created_at=now))

    def forget(self, username: str, client: str) -> None:
        db.session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == username, LoginFailure.client_hash == client
            )
        )


class StorageFailures:
    """Failure counts in a ``limits`` storage (the rate limiter's, e.g. Redis).

    Each scope has a counter that expires with the window and, once over its allowance, a
    "blocked" key that expires when the delay is over.
    """

    PREFIX = "qc-login"

    def __init__(self, policy: Policy, uri: str) -> None:
        from limits.storage import storage_from_string

        self.policy = policy
        if uri not in _storages:
            _storages[uri] = storage_from_string(uri)
        self.storage = _storages[uri]

    def _scopes(self, username: str, client: str) -> list[tuple[str, int]]:
        return [
            (f"pair:{username}\x00{client}", self.policy.pair_limit),
            (f"client:{client}", self.policy.client_limit),
            (f"account:{username}", self.policy.account_limit),
        ]

    def wait(self, username: str, client: str) -> float:
        now = time.time()
        scopes = self._scopes(username, client)
        if not self.storage.get(f"{self.PREFIX}:count:{scopes[0][0]}"):
            scopes = scopes[:2]  # the account-wide wait is only for clients that failed on it
        waits = [0.0]
        for key, _limit in scopes:
            blocked = f"{self.PREFIX}:blocked:{key}"
            if self.storage.get(blocked):
                waits.append(max(0.0, self.storage.get_expiry(blocked) - now))
        return max(waits)

    def record(self, username: str, client: str) -> None:
        # Expiries in whole seconds: Redis refuses a fractional one (memory:// took any).
        window = math.ceil(self.policy.window)
        for key, limit in self._scopes(username, client):
            count = self.storage.incr(f"{self.PREFIX}:count:{key}", window)
            delay = self.policy.delay(count, limit)
            if delay:
                blocked = f"{self.PREFIX}:blocked:{key}"
                self.storage.clear(blocked)
                self.storage.incr(blocked, math.ceil(delay))

    def forget(self, username: str, client: str) -> None:
        key = self._scopes(username, client)[0][0]
        self.storage.clear(f"{self.PREFIX}:count:{key}")
        self.storage.clear(f"{self.PREFIX}:blocked:{key}")


# One storage object per URI and process: a memory:// one must outlive the request.
_storages: dict[str, object] = {}


def _failures() -> DatabaseFailures | StorageFailures:
    policy = Policy.from_config()
    uri = current_app.config.get("LOGIN_THROTTLE_STORAGE_URI")
    if not uri and current_app.config["RATE_LIMIT_STORAGE_URI"] != "memory://":
        uri = current_app.config["RATE_LIMIT_STORAGE_URI"]
    return StorageFailures(policy, uri) if uri else DatabaseFailures(policy)


def _counted(action: str, username: str, client_hash: str | None) -> float | None:
    """Run ``action`` (wait, record or forget) on the configured counts, or on the database's
    while the shared storage is unreachable."""
    client = client_hash or UNKNOWN_CLIENT
    failures = _failures()
    try:
        return getattr(failures, action)(username, client)
    except RedisError as error:
        if isinstance(failures, DatabaseFailures):
            raise
        current_app.logger.warning(
            "login throttle storage unreachable (%s): counting in the database", error
        )
        return getattr(DatabaseFailures(failures.policy), action)(username, client)


def seconds_until_login_allowed(username: str, client_hash: str | None) -> int:
    """0 when this client may try to log in as ``username`` now; otherwise whole seconds to wait."""
    return math.ceil(_counted("wait", username, client_hash))


def record_failed_login(username: str, client_hash: str | None) -> None:
    """Count a failure for every scope (the caller commits)."""
    _counted("record", username, client_hash)


def forget_failed_logins(username: str, client_hash: str | None) -> None:
    """After a successful login, this client's failures on the account no longer count."""
    _counted("forget", username, client_hash)
