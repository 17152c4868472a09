"""Model version directories: atomic writes, checksummed manifests, verified loads."""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import pickle
import secrets
import shutil
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import sklearn

from training.runtime import finetuned_classifier, sentence_encoder
from training.runtime.extras import available, serving_available
from training.runtime.predictor import QuestionClassifier
from training.runtime.unpickling import load_joblib, loads

if TYPE_CHECKING:
    from training.tiers.fitting import TrainResult

MANIFEST = "manifest.json"
# The model is a pickle (the C unpickler, far faster than joblib's pure-Python one, so a worker
# swapping versions spends milliseconds holding the interpreter lock instead of half a second),
# zlib-compressed unless it holds an encoder graph. Its arrays (the weights, most of its size)
# are kept apart, raw, in MODEL_ARRAYS: a worker maps that file into memory instead of
# decompressing and copying it, so a swap costs a loading worker little CPU and the workers
# share those pages. Versions written before hold everything in the pickle, or are joblib files.
# Versions written before training/ had subpackages name old module paths (runtime.unpickling).
MODEL_FILE = "model.pickle"
MODEL_ARRAYS = "model.arrays"
ARRAY_ALIGNMENT = 64  # every array starts on a boundary that vectorised code reads quickly
LEGACY_MODEL_FILE = "model.joblib"
# The scope check a version carries once reviewers have discarded texts (training.scope).
SCOPE_FILE = "scope.joblib"
PICKLE_PROTOCOL = 5
TEMPORARY_PREFIX = ".tmp-"


class ArtifactError(RuntimeError):
    """A model version directory is missing, incomplete, tampered with or incompatible."""


class MissingExtraError(ArtifactError):
    """A model version needs an optional extra (such as 'embeddings') that is not installed."""


# Feature sets that need an optional dependency group, with the check that it is installed:
# versions that store their encoder need only its runtime, older ones the whole extra.
EXTRA_FEATURE_SETS = {
    sentence_encoder.FEATURE_SET: ("embeddings", available),
    finetuned_classifier.FEATURE_SET: ("embeddings", serving_available),
}
STORED_ENCODER_CHECKS = {
    sentence_encoder.FEATURE_SET: ("embeddings", serving_available),
    finetuned_classifier.FEATURE_SET: ("embeddings", serving_available),
}


def check_extras(manifest: dict, path: Path) -> None:
    """Raise MissingExtraError when the version's feature set needs an absent extra."""
    checks = STORED_ENCODER_CHECKS if manifest.get("encoder") else EXTRA_FEATURE_SETS
    needed = checks.get(str(manifest.get("feature_set")))
    if needed is None:
        return
    extra, is_installed = needed
    if not is_installed():
        version = manifest.get("version") or Path(path).name
        raise MissingExtraError(
            f"model version {version} needs the {extra!r} extra: run make {extra}"
        )


@dataclass
class VersionInfo:
    """Where a saved version lives and the checksum of its manifest."""

    path: Path
    sha256: str
    manifest: dict


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, payload: object) -> None:
    """Write JSON and flush it to disk."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    _write_synced(path, [text.encode("utf-8")])


def _fsync_directory(path: Path) -> None:
    """Persist a directory entry (renames and new files) on POSIX systems."""
    if os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _label_maps(classifier: QuestionClassifier) -> dict:
    """Column index -> label for both tasks."""
    labels = classifier.labels
    return {task: {str(i): label for i, label in enumerate(labels[task])} for task in labels}


def _stored_encoder(classifier: QuestionClassifier) -> str | None:
    """The digest of a sentence encoder stored inside the model, if it has one."""
    network = getattr(classifier, "network", None)
    if network is not None:
        return f"onnx-{network.precision} fine-tuned sha256:{network.digest}"
    for _, transformer in getattr(classifier.features, "transformer_list", []):
        encoder = getattr(transformer, "encoder_", None)
        if encoder is not None:
            return f"onnx-{encoder.precision} sha256:{encoder.digest}"
    return None


def save_version(
    result: TrainResult, models_dir: Path, version: str, *, scope: object | None = None
) -> VersionInfo:
    """Write models_dir/<version>/ atomically; refuses to overwrite an existing version.

    ``scope``, when given, is the scope check the version serves instead of the shipped one."""
    models_dir = Path(models_dir)
    if not version or "/" in version or version.startswith("."):
        raise ArtifactError(f"invalid version name {version!r}")
    final = models_dir / version
    if final.exists():
        raise ArtifactError(f"version directory {final} already exists")
    models_dir.mkdir(parents=True, exist_ok=True)
    temporary = models_dir / f"{TEMPORARY_PREFIX}{version}-{secrets.token_hex(4)}"
    temporary.mkdir()
    try:
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(
            result.classifier, protocol=PICKLE_PROTOCOL, buffer_callback=buffers.append
        )
        # An encoder graph's float weights barely compress: writing it plain saves seconds.
        compression = None if _stored_encoder(result.classifier) else "zlib"
        if compression:
            data = zlib.compress(data, 3)
        _write_synced(temporary / MODEL_FILE, [data])
        layout = _write_arrays(temporary / MODEL_ARRAYS, buffers)
        _write_json(temporary / "labels.json", _label_maps(result.classifier))
        _write_json(temporary / "metrics.json", result.metrics)
        _write_json(temporary / "params.json", {**result.params, "timings": result.timings})
        if scope is not None:
            joblib.dump(scope, temporary / SCOPE_FILE)
        files = {
            path.name: {"sha256": _sha256(path), "size": path.stat().st_size}
            for path in sorted(temporary.iterdir())
        }
        manifest = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sklearn_version": sklearn.__version__,
            "feature_set": result.classifier.feature_set,
            "encoder": _stored_encoder(result.classifier),
            "model_compression": compression,
            "model_arrays": layout,
            "files": files,
        }
        _write_json(temporary / MANIFEST, manifest)
        _fsync_directory(temporary)
        if final.exists():
            raise ArtifactError(f"version directory {final} already exists")
        os.rename(temporary, final)
        _fsync_directory(models_dir)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return VersionInfo(path=final, sha256=_sha256(final / MANIFEST), manifest=manifest)


def _write_synced(path: Path, chunks: list) -> None:
    """Write the chunks to a new file and flush it to disk."""
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def _write_arrays(path: Path, buffers: list[pickle.PickleBuffer]) -> list[list[int]]:
    """Write the pickle's out-of-band buffers one after another, each aligned; their layout."""
    layout, chunks, offset = [], [], 0
    for buffer in buffers:
        raw = buffer.raw()
        padding = -offset % ARRAY_ALIGNMENT
        chunks += [b"\0" * padding, raw]
        offset += padding
        layout.append([offset, raw.nbytes])
        offset += raw.nbytes
    _write_synced(path, chunks)
    return layout


def _mapped_arrays(path: Path, manifest: dict) -> list[memoryview] | None:
    """The version's arrays as views of its arrays file mapped copy-on-write (None before)."""
    layout = manifest.get("model_arrays")
    if layout is None:
        return None
    if not layout:
        return []
    with (Path(path) / MODEL_ARRAYS).open("rb") as handle:
        # Private pages: they stay shared with the page cache (and so between the workers) until
        # something writes to an array, which then gets its own copy and never the file.
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    view = memoryview(mapped)
    if any(offset < 0 or length < 0 or offset + length > len(view) for offset, length in layout):
        raise ArtifactError(f"{path}: the manifest's array layout does not fit {MODEL_ARRAYS}")
    return [view[offset : offset + length] for offset, length in layout]


def read_manifest(path: Path) -> dict:
    """The parsed manifest of a version directory; ArtifactError when absent or unreadable."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise ArtifactError(f"{manifest_path}: manifest missing (incomplete model version)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{manifest_path}: unreadable manifest ({error})") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{manifest_path}: manifest has no file list")
    return manifest


def verify_version(path: Path) -> dict:
    """Check every listed file's checksum and the scikit-learn version; returns the manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    recorded = manifest.get("sklearn_version")
    if recorded != sklearn.__version__:
        raise ArtifactError(
            f"{path / MANIFEST}: model built with scikit-learn {recorded}, "
            f"installed is {sklearn.__version__}; retrain the model"
        )
    if MODEL_FILE not in manifest["files"] and LEGACY_MODEL_FILE not in manifest["files"]:
        raise ArtifactError(f"{path / MANIFEST}: manifest does not list {MODEL_FILE}")
    for name, entry in manifest["files"].items():
        file_path = path / name
        if Path(name).name != name or not file_path.is_file():
            raise ArtifactError(f"{file_path}: listed in the manifest but missing")
        if file_path.stat().st_size != entry.get("size") or _sha256(file_path) != entry.get(
            "sha256"
        ):
            raise ArtifactError(f"{file_path}: checksum does not match the manifest")
    return manifest


def load_version(path: Path) -> QuestionClassifier:
    """Load a verified model version; raises ArtifactError on any mismatch."""
    path = Path(path)
    manifest = verify_version(path)
    check_extras(manifest, path)
    model_file = path / (MODEL_FILE if MODEL_FILE in manifest["files"] else LEGACY_MODEL_FILE)
    try:
        if model_file.name == LEGACY_MODEL_FILE:
            classifier = load_joblib(model_file)
        else:
            data = model_file.read_bytes()
            if manifest.get("model_compression") == "zlib":
                data = zlib.decompress(data)  # releases the interpreter lock while it works
            classifier = loads(data, buffers=_mapped_arrays(path, manifest))
    except Exception as error:  # a corrupt pickle can raise almost anything
        raise ArtifactError(f"{model_file}: cannot be loaded ({error})") from error
    if not isinstance(classifier, QuestionClassifier):
        raise ArtifactError(f"{model_file}: does not hold a QuestionClassifier")
    return classifier


def load_version_scope(path: Path) -> object | None:
    """The scope check a version carries, or None when it serves the shipped one.

    Read after ``load_version``, which has checked the file against the manifest."""
    path = Path(path)
    if SCOPE_FILE not in read_manifest(path)["files"]:
        return None
    try:
        return joblib.load(path / SCOPE_FILE)
    except Exception as error:  # a corrupt pickle can raise almost anything
        raise ArtifactError(f"{path / SCOPE_FILE}: cannot be loaded ({error})") from error


def cleanup_temporary(models_dir: Path) -> list[Path]:
    """Remove half-written '.tmp-*' version directories; returns what was removed."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    removed = []
    for entry in models_dir.iterdir():
        if entry.name.startswith(TEMPORARY_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
