"""Model artifacts every host can read: content-addressed blobs in the database, or files.

A version's artifact is its directory (model, labels, metrics, params, manifest). With the
database store each file is a blob named by its sha256, written once and read back in chunks;
the manifest's own sha256 (``ModelVersion.artifact_sha256``) names the whole version, since the
manifest lists every other file's sha256. Each host keeps the files it fetched under its own
MODELS_DIR and checks them against those checksums before a model is loaded from them. With
the file store (the default on SQLite) the directory under MODELS_DIR is the artifact itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import delete, select

from training import TEMPORARY_VERSION_PREFIX as TEMPORARY_PREFIX
from training import VERSION_MANIFEST as MANIFEST
from training import ArtifactError, read_manifest, verify_version

from ...config import ARTIFACT_STORES
from ...extensions import db
from ...models import ArtifactBlob, ArtifactChunk, ModelVersion, VersionStatus

CHUNK_BYTES = 1 << 20
FETCH_LOCK = ".fetch.lock"  # in MODELS_DIR: one fetch from the store at a time per host


class ArtifactRef(Protocol):
    """What locating an artifact needs of a version (a row or a lighter reference)."""

    version: str
    artifact_path: str
    artifact_sha256: str


def resolve_artifact(models_dir: str, artifact_path: str) -> Path:
    """Where a version's directory is: artifact paths are stored relative to MODELS_DIR."""
    path = Path(artifact_path)
    return path if path.is_absolute() else Path(models_dir) / path


def store_kind() -> str:
    """"database" or "files": QC_ARTIFACT_STORE, else files on SQLite and the database elsewhere."""
    chosen = current_app.config.get("ARTIFACT_STORE")
    if chosen:
        if chosen not in ARTIFACT_STORES:
            raise ValueError(
                f"ARTIFACT_STORE must be one of {', '.join(ARTIFACT_STORES)}, not {chosen!r}"
            )
        return chosen
    uri = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return "files" if uri.startswith("sqlite") else "database"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def has_blob(sha256: str) -> bool:
    """Whether the shared store holds the blob named ``sha256``."""
    return db.session.get(ArtifactBlob, sha256) is not None


def put_blob(path: Path, sha256: str) -> bool:
    """Store a file under its sha256 unless it is there already; False when it was (the
    caller commits). The content is checked against the name while it is read."""
    if has_blob(sha256):
        return False
    digest = hashlib.sha256()
    size = seq = 0
    with path.open("rb") as handle:
        blob = ArtifactBlob(sha256=sha256, size=0, chunk_count=0)
        db.session.add(blob)
        db.session.flush()
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            db.session.add(ArtifactChunk(sha256=sha256, seq=seq, data=chunk))
            db.session.flush()  # one chunk in memory at a time
            size += len(chunk)
            seq += 1
    if digest.hexdigest() != sha256:
        raise ArtifactError(f"{path}: content does not match sha256 {sha256}")
    blob.size, blob.chunk_count = size, seq
    return True


def publish_version(path: Path, manifest_sha256: str) -> int:
    """Copy a saved version directory into the shared store; returns the blobs added.

    With the file store the directory is already where it belongs and nothing is copied.
    """
    if store_kind() != "database":
        return 0
    path = Path(path)
    manifest = read_manifest(path)
    added = 0
    for name, entry in sorted(manifest["files"].items()):
        added += put_blob(path / name, entry["sha256"])
    added += put_blob(path / MANIFEST, manifest_sha256)
    return added


def read_blob(sha256: str, target: Path) -> None:
    """Write the blob ``sha256`` to ``target`` chunk by chunk, checking its checksum."""
    blob = db.session.get(ArtifactBlob, sha256)
    if blob is None:
        raise ArtifactError(f"the artifact store has no blob {sha256}")
    digest = hashlib.sha256()
    with target.open("wb") as handle:
        for seq in range(blob.chunk_count):
            data = db.session.scalar(
                select(ArtifactChunk.data).where(
                    ArtifactChunk.sha256 == sha256, ArtifactChunk.seq == seq
                )
            )
            if data is None:
                raise ArtifactError(f"blob {sha256} lacks chunk {seq}")
            digest.update(data)
            handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if digest.hexdigest() != sha256:
        raise ArtifactError(f"blob {sha256} does not match its checksum")


def cached_copy_matches(path: Path, manifest_sha256: str) -> bool:
    """Whether a local version directory is, file for file, the one named by
    ``manifest_sha256`` (its manifest has that checksum and every file matches it)."""
    manifest = path / MANIFEST
    if not manifest.is_file() or sha256_of(manifest) != manifest_sha256:
        return False
    try:
        verify_version(path)
    except ArtifactError:
        return False
    return True


def local_version(ref: ArtifactRef) -> Path:
    """The version's directory on this host, fetched from the shared store when absent or
    different; the model loader then checks every file against the manifest."""
    models_dir = Path(current_app.config["MODELS_DIR"])
    path = resolve_artifact(str(models_dir), ref.artifact_path)
    if store_kind() != "database" or cached_copy_matches(path, ref.artifact_sha256):
        return path
    if not has_blob(ref.artifact_sha256):
        if path.is_dir():
            return path  # written before the shared store existed: the local files are all
        raise ArtifactError(f"model version {ref.version} is in neither the store nor {path}")
    models_dir.mkdir(parents=True, exist_ok=True)
    # One fetch per host at a time: the other workers of this host wait for it and then find
    # the copy, instead of each reading the same blobs from the database.
    with (models_dir / FETCH_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached_copy_matches(path, ref.artifact_sha256):
            db.session.rollback()
            return path
        _fetch(ref, models_dir, path)
    return path


def _fetch(ref: ArtifactRef, models_dir: Path, path: Path) -> None:
    """Read the version's files from the store into a new folder, then move it to ``path``."""
    temporary = models_dir / f"{TEMPORARY_PREFIX}{ref.version}-{secrets.token_hex(4)}"
    temporary.mkdir()
    try:
        read_blob(ref.artifact_sha256, temporary / MANIFEST)
        manifest = json.loads((temporary / MANIFEST).read_text(encoding="utf-8"))
        for name, entry in manifest["files"].items():
            if Path(name).name != name or name == MANIFEST:
                raise ArtifactError(f"manifest of {ref.version} names a bad file {name!r}")
            read_blob(entry["sha256"], temporary / name)
        if path.exists():
            # A stale or damaged copy: replaced, never loaded.
            shutil.rmtree(path, ignore_errors=True)
        os.rename(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        db.session.rollback()  # end the read transaction: a loader must not hold one


@dataclass
class PrunePlan:
    """What a prune keeps and removes: version names, and blobs by sha256."""

    kept: list[str]
    pruned: list[str]
    blobs: list[str]
    folders: list[Path]


def versions_to_keep(keep_retired: int) -> set[int]:
    """Ids of the versions whose artifacts stay: active, candidates, pinned, last N retired."""
    rows = db.session.execute(
        select(ModelVersion.id, ModelVersion.status, ModelVersion.is_active, ModelVersion.pinned)
        .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    ).all()
    keep, retired = set(), 0
    for row in rows:
        not_retired = row.status in (VersionStatus.ACTIVE, VersionStatus.CANDIDATE)
        if row.is_active or row.pinned or not_retired:
            keep.add(row.id)
        elif retired < keep_retired:
            keep.add(row.id)
            retired += 1
    return keep


def _manifest_blobs(sha256: str) -> set[str]:
    """The blobs a stored manifest names, itself included."""
    blob = db.session.get(ArtifactBlob, sha256)
    if blob is None:
        return set()
    chunks = db.session.scalars(
        select(ArtifactChunk.data).where(ArtifactChunk.sha256 == sha256).order_by(
            ArtifactChunk.seq
        )
    )
    try:
        manifest = json.loads(b"".join(chunks).decode("utf-8"))
        files = {entry["sha256"] for entry in manifest["files"].values()}
    except (ValueError, KeyError, TypeError, AttributeError):
        files = set()
    return files | {sha256}


def plan_prune(keep_retired: int) -> PrunePlan:
    """Which artifacts a prune removes, under the retention rule of ``versions_to_keep``."""
    keep_ids = versions_to_keep(keep_retired)
    versions = list(db.session.scalars(select(ModelVersion).order_by(ModelVersion.id)))
    kept = [v for v in versions if v.id in keep_ids]
    pruned = [v for v in versions if v.id not in keep_ids]
    needed: set[str] = set()
    for version in kept:
        needed |= _manifest_blobs(version.artifact_sha256)
    stored = set(db.session.scalars(select(ArtifactBlob.sha256)))
    models_dir = Path(current_app.config["MODELS_DIR"]).resolve()
    folders = []
    for version in pruned:
        folder = resolve_artifact(str(models_dir), version.artifact_path).resolve()
        if folder.is_relative_to(models_dir) and folder.is_dir():
            folders.append(folder)
    return PrunePlan(
        kept=[v.version for v in kept],
        pruned=[v.version for v in pruned],
        blobs=sorted(stored - needed),
        folders=folders,
    )


def prune_artifacts(keep_retired: int, *, dry_run: bool = False) -> PrunePlan:
    """Remove the artifacts the retention rule does not keep (rows and history stay)."""
    if keep_retired < 0:
        raise ValueError("The number of retired versions to keep cannot be negative.")
    plan = plan_prune(keep_retired)
    if dry_run:
        db.session.rollback()
        return plan
    for batch in _batches(plan.blobs, 100):
        db.session.execute(delete(ArtifactChunk).where(ArtifactChunk.sha256.in_(batch)))
        db.session.execute(delete(ArtifactBlob).where(ArtifactBlob.sha256.in_(batch)))
    db.session.commit()
    for folder in plan.folders:
        shutil.rmtree(folder, ignore_errors=True)
    return plan


def artifact_available(version: ModelVersion) -> bool:
    """Whether some host can still load the version: its blob is stored, or its files are here."""
    if store_kind() == "database" and has_blob(version.artifact_sha256):
        return True
    path = resolve_artifact(current_app.config["MODELS_DIR"], version.artifact_path)
    return (path / MANIFEST).is_file()


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
