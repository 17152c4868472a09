"""nginx in front of qcapp on one machine, from the shipped site file ops/nginx/qcapp.conf.

The cluster of ops/cluster.py and tests/e2e/test_reverse_proxy.py start it this way: the same
file a deployment installs, with this machine's ports, the app's addresses as upstreams and a
throwaway self-signed certificate.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SITE = Path(__file__).resolve().parent / "nginx" / "qcapp.conf"
SITE_HOST = "qc.example.org"  # the server_name the shipped file answers to


def nginx_binary() -> str | None:
    """Debian's nginx, or None when it is not installed."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if Path(found).exists() else None


def self_signed_certificate(folder: Path, name: str = SITE_HOST) -> tuple[Path, Path]:
    """A certificate and key for ``name``, valid a day (openssl)."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    return certificate, key


def render_site(
    *, upstreams: list[str], http_port: int, https_port: int, certificate: Path, key: Path
) -> str:
    """The shipped site file on this machine's loopback ports, proxying to ``upstreams``."""
    site = SITE.read_text()
    servers = "".join(f"    server {address};\n" for address in upstreams)
    site = re.sub(r"upstream qcapp \{\n.*?\}", f"upstream qcapp {{\n{servers}}}", site, flags=re.S)
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)  # no IPv6 in every sandbox
    site = site.replace("listen 80", f"listen 127.0.0.1:{http_port}")
    site = site.replace("listen 443", f"listen 127.0.0.1:{https_port}")
    site = site.replace(f"/etc/letsencrypt/live/{SITE_HOST}/fullchain.pem", str(certificate))
    site = site.replace(f"/etc/letsencrypt/live/{SITE_HOST}/privkey.pem", str(key))
    return site


@dataclass
class Nginx:
    """One nginx serving a rendered site from a folder of its own."""

    folder: Path
    https_port: int
    http_port: int
    process: subprocess.Popen | None = None

    def start(self, upstreams: list[str]) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        self.folder.mkdir(parents=True, exist_ok=True)
        certificate, key = self_signed_certificate(self.folder)
        (self.folder / "site.conf").write_text(render_site(
            upstreams=upstreams, http_port=self.http_port, https_port=self.https_port,
            certificate=certificate, key=key,
        ))
        temporary = "".join(
            f"  {kind}_temp_path {self.folder}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.folder / "nginx.conf").write_text(
            f"pid {self.folder}/nginx.pid;\nerror_log {self.folder}/error.log warn;\n"
            "worker_processes 1;\nevents { worker_connections 4096; }\n"
            f"http {{\n  access_log off;\n{temporary}  include {self.folder}/site.conf;\n}}\n"
        )
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stdout.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("nginx did not start listening")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
