"""A qcapp cluster on one machine: PostgreSQL, Redis, two app hosts behind nginx, one job worker.

    python ops/cluster.py            # start, print the addresses, stop everything on Ctrl-C

Each app host has an instance folder of its own (its own model cache), as two machines would;
they share the database, the artifact store in it, the job queue and the counters in Redis,
and the secret key (the load balancer may send one user's requests to either host). nginx,
started from the shipped site file (ops/nginx/qcapp.conf, with a throwaway certificate),
spreads the requests over both hosts, which trust it as their one proxy. Data lives under a
temporary folder that is removed on stop. Debian's postgresql, redis-server and nginx are
installed with apt-get when missing. The tests in tests/cluster/ drive the same class.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from proxy import Nginx, nginx_binary

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST_PORTS = {"a": 5101, "b": 5102}
BALANCER_PORTS = {"https": 5100, "http": 5099}
PG_PORT = int(os.environ.get("QC_CLUSTER_PG_PORT", "5416"))
REDIS_PORT = int(os.environ.get("QC_CLUSTER_REDIS_PORT", "6416"))


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return found[-1] if found else None


def install_missing() -> None:
    """apt-get install postgresql and redis-server when either is absent."""
    missing = []
    if _pg_bin() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if nginx_binary() is None:
        missing.append("nginx")
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", *missing],
        check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


@dataclass
class Cluster:
    """The processes of one cluster and the settings every qcapp process of it shares."""

    base: Path
    workers_per_host: int = 2
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    balancer: Nginx | None = None

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/qcapp"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{REDIS_PORT}/0"

    def url(self, host: str) -> str:
        return f"http://127.0.0.1:{HOST_PORTS[host]}"

    @property
    def balancer_url(self) -> str:
        return f"https://127.0.0.1:{BALANCER_PORTS['https']}"

    def instance(self, name: str) -> Path:
        return self.base / f"instance-{name}"

    def environment(self, instance: str, **extra: str) -> dict[str, str]:
        """The QC_* settings of one qcapp process of the cluster."""
        return {
            **os.environ,
            "QC_DATABASE_URL": self.database_url,
            "QC_REDIS_URL": self.redis_url,
            "QC_SECRET_KEY": self.secret_key,
            "QC_INSTANCE_PATH": str(self.instance(instance)),
            "QC_MODEL_CHECK_INTERVAL": os.environ.get("QC_MODEL_CHECK_INTERVAL", "1"),
            "QC_RUN_HEARTBEAT_SECONDS": os.environ.get("QC_RUN_HEARTBEAT_SECONDS", "2"),
            "QC_RUN_STALE_SECONDS": os.environ.get("QC_RUN_STALE_SECONDS", "10"),
            "QC_LOG_LEVEL": "WARNING",
            # nginx in front of the hosts: the visitor's address is the one it appends.
            "QC_TRUSTED_PROXIES": "1",
            **extra,
        }

    # -- the shared services ------------------------------------------------------------

    def _as_postgres(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["su", "postgres", "-c", shlex.join(command)]

    @property
    def pg_data(self) -> Path:
        return self.base / "postgres" if os.geteuid() != 0 else self._pg_root / "data"

    @property
    def _pg_root(self) -> Path:
        # Run as root, the server runs as the postgres user, which must reach its folder: a
        # folder of its own in /tmp, since the base folder may sit under a private one.
        return Path(tempfile.gettempdir()) / f"qcapp-cluster-pg-{PG_PORT}"

    def start_postgres(self) -> None:
        data = self.pg_data
        if os.geteuid() == 0:
            shutil.rmtree(self._pg_root, ignore_errors=True)
            self._pg_root.mkdir(mode=0o755)
            data.mkdir()
            shutil.chown(data, "postgres")
        else:
            data.mkdir(parents=True)
        binary = _pg_bin()
        subprocess.run(
            self._as_postgres(
                [str(binary / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                 "--no-sync"]
            ),
            check=True, stdout=subprocess.DEVNULL,
        )
        options = f"-p {PG_PORT} -k '' -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(
            self._as_postgres(
                [str(binary / "pg_ctl"), "-D", str(data), "-o", options,
                 "-l", str(data / "server.log"), "-w", "start"]
            ),
            check=True, stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(binary / "psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
             "-q", "-c", "CREATE DATABASE qcapp"],
            check=True,
        )

    def stop_postgres(self) -> None:
        data = self.pg_data
        if (data / "postmaster.pid").exists():
            subprocess.run(
                self._as_postgres([str(_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast",
                                   "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        if os.geteuid() == 0:
            shutil.rmtree(self._pg_root, ignore_errors=True)

    def start_redis(self) -> None:
        folder = self.base / "redis"
        folder.mkdir()
        self._spawn(
            "redis",
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            os.environ.copy(),
        )
        self._wait_until(lambda: self._redis_ready(), "Redis")

    def _redis_ready(self) -> bool:
        result = subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    # -- qcapp ----------------------------------------------------------------------------

    def flask(self, *args: str, instance: str = "setup", stdin: str | None = None) -> str:
        """Run one ``flask --app qcapp`` command with the cluster's settings; its output."""
        result = subprocess.run(
            [PYTHON, "-m", "flask", "--app", "qcapp", *args],
            cwd=ROOT, env=self.environment(instance), input=stdin, text=True,
            capture_output=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def prepare(self, admin_password: str | None = None) -> None:
        """Schema, starter dataset, first model version (into the shared store), an admin."""
        self.flask("db", "upgrade")
        self.flask("qc", "setup")
        if admin_password:
            self.flask("qc", "create-admin", "admin", stdin=admin_password + "\n")

    def start_host(self, name: str, *, empty: bool = False) -> None:
        """Start app host ``name`` ("a" or "b") with gunicorn; ``empty`` wipes its instance."""
        instance = self.instance(f"host-{name}")
        if empty and instance.exists():
            shutil.rmtree(instance)
        instance.mkdir(parents=True, exist_ok=True)
        env = self.environment(
            f"host-{name}", HOST="127.0.0.1", PORT=str(HOST_PORTS[name]),
            QC_WORKERS=str(self.workers_per_host),
        )
        self._spawn(
            f"host-{name}",
            [PYTHON, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
             "qcapp:create_app()"],
            env,
        )
        self._wait_until(lambda: self._healthy(name), f"host {name}", timeout=120)

    def stop_host(self, name: str) -> None:
        self._stop(f"host-{name}")

    def start_worker(self) -> None:
        instance = self.instance("worker")
        instance.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "worker", [PYTHON, "-m", "flask", "--app", "qcapp", "qc", "worker"],
            self.environment("worker"),
        )

    def kill_worker(self) -> None:
        """SIGKILL the worker and the job it runs, as a lost machine would stop them."""
        process = self.processes.pop("worker")
        for pid in _descendants(process.pid):
            _kill(pid, signal.SIGKILL)
        _kill(process.pid, signal.SIGKILL)
        process.wait()

    def health(self, name: str) -> dict:
        import json

        with urllib.request.urlopen(self.url(name) + "/healthz", timeout=5) as response:
            return json.load(response)

    def _healthy(self, name: str) -> bool:
        try:
            return self.health(name).get("status") == "ok"
        except OSError:
            return False

    # -- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115  (the child owns it)
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def _wait_until(self, ready, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    tail = (self.base / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited while waiting for {what}:\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not become ready in {timeout:.0f} s")
            time.sleep(0.3)

    def _stop(self, name: str, timeout: float = 20.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        # A job's work horse has a process group of its own: found now, killed if it stays.
        below = _descendants(process.pid)
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            for pid in below:
                _kill(pid, signal.SIGKILL)
            process.wait()

    def start_balancer(self) -> None:
        """nginx with TLS in front of both hosts (ops/nginx/qcapp.conf)."""
        self.balancer = Nginx(
            self.base / "nginx", https_port=BALANCER_PORTS["https"],
            http_port=BALANCER_PORTS["http"],
        )
        self.balancer.start([f"127.0.0.1:{port}" for port in HOST_PORTS.values()])

    def start(self, admin_password: str | None = None) -> None:
        """Everything, in order: database, Redis, schema and first model, hosts, worker and
        the load balancer."""
        install_missing()
        self.start_postgres()
        self.start_redis()
        self.prepare(admin_password)
        for name in HOST_PORTS:
            self.start_host(name)
        self.start_worker()
        self.start_balancer()

    def stop(self) -> None:
        """Stop every process this cluster started (the balancer and hosts first, the database
        last)."""
        if self.balancer is not None:
            self.balancer.stop()
        for name in [n for n in self.processes if n not in ("redis",)]:
            self._stop(name)
        self._stop("redis")
        self.stop_postgres()


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (a job's work horse runs in a process group of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the data folder on stop.")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="qcapp-cluster-"))
    cluster = Cluster(base)
    password = secrets.token_urlsafe(12)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        cluster.start(admin_password=password)
        print(f"PostgreSQL  {cluster.database_url}")
        print(f"Redis       {cluster.redis_url}")
        print(f"balancer    {cluster.balancer_url}  (nginx, self-signed certificate)")
        for name in HOST_PORTS:
            folder = cluster.instance(f"host-{name}")
            print(f"host {name}      {cluster.url(name)}  (instance {folder})")
        print(f"worker      flask --app qcapp qc worker  (instance {cluster.instance('worker')})")
        print(f"admin       admin / {password}")
        print(f"logs        {base}/*.log")
        print("Ctrl-C stops them all.", flush=True)
        while all(process.poll() is None for process in cluster.processes.values()):
            time.sleep(1)
        print("A process of the cluster exited; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C (or TERM) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        print("Stopped.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
