"""The cluster of ops/cluster.py, started once for the tests of this folder."""

from __future__ import annotations

import pytest
from cluster_support import ADMIN_PASSWORD, Cluster
from sqlalchemy import create_engine


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """PostgreSQL, Redis, hosts a and b, one worker; stopped after the last test."""
    running = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start(admin_password=ADMIN_PASSWORD)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def database(cluster):
    """An engine on the cluster's database, for checking what is stored."""
    engine = create_engine(cluster.database_url)
    yield engine
    engine.dispose()
