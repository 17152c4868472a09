"""Base datasets in the database: import, list, and the frame a model is trained on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, insert, select, update

from training import LoadResult, dataset_fingerprint, load_dataset, normalise_question

from ...extensions import db
from ...models import Dataset, Example, utcnow
from ..accounts.accounts import record_event

STARTER_DATASET = "starter"


def starter_dataset_path() -> Path:
    """The dataset shipped with qcapp, written by its team."""
    import training

    return Path(training.__file__).resolve().parent / "data" / "starter.csv"


def import_dataset(
    path: str | Path, name: str, *, skip_bad: bool = False, actor: str | None = None
) -> tuple[Dataset, LoadResult]:
    """Load a file as the base examples of ``name`` and make it the active dataset.

    Re-importing a name replaces its examples in the same transaction, so readers see either
    the old rows or the new ones, never a mix.
    """
    name = name.strip()
    if not name or len(name) > 64:
        raise ValueError("A dataset name needs 1 to 64 characters.")
    loaded = load_dataset(path, skip_bad=skip_bad)
    frame = loaded.frame
    dataset = db.session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        dataset = Dataset(name=name)
        db.session.add(dataset)
        db.session.flush()
    else:
        db.session.execute(
            delete(Example).where(Example.dataset_id == dataset.id, Example.source == "base")
        )
    now = utcnow()
    rows = [
        {
            "dataset_id": dataset.id,
            "text": text,
            "normalized": normalise_question(text)[:600],
            "coarse": coarse,
            "fine": fine,
            "source": "base",
            "created_at": now,
            "updated_at": now,
        }
        for text, coarse, fine in frame[["text", "coarse", "fine"]].itertuples(index=False)
    ]
    if rows:
        db.session.execute(insert(Example), rows)
    dataset.origin = str(path)[:500]
    dataset.rows = len(rows)
    dataset.fingerprint = dataset_fingerprint(frame)
    dataset.imported_at = now
    activate_dataset(dataset)
    record_event(
        actor,
        "dataset_imported",
        "dataset",
        name,
        {"rows": len(rows), "skipped": loaded.skipped, "duplicates": loaded.duplicates_dropped},
    )
    db.session.commit()
    return dataset, loaded


def activate_dataset(dataset: Dataset) -> None:
    """Make ``dataset`` the only active one (the caller commits)."""
    db.session.execute(
        update(Dataset)
        .where(Dataset.id != dataset.id, Dataset.is_active.is_(True))
        .values(is_active=None)
    )
    db.session.flush()
    dataset.is_active = True


def active_dataset() -> Dataset | None:
    """The base dataset new models are trained on."""
    return db.session.scalar(select(Dataset).where(Dataset.is_active.is_(True)))


def get_dataset(name: str) -> Dataset | None:
    return db.session.scalar(select(Dataset).where(Dataset.name == name))


def list_datasets() -> list[tuple[Dataset, int]]:
    """Every dataset with its current number of examples."""
    counts = dict(
        db.session.execute(
            select(Example.dataset_id, func.count()).group_by(Example.dataset_id)
        ).all()
    )
    datasets = db.session.scalars(select(Dataset).order_by(Dataset.name)).all()
    return [(dataset, counts.get(dataset.id, 0)) for dataset in datasets]


class FetchError(RuntimeError):
    """A dataset could not be downloaded or did not match its checksum."""


MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024


def download_verified(url: str, sha256: str, timeout: float = 30.0) -> bytes:
    """The bytes at ``url``, refused unless their sha256 is the expected one."""
    import hashlib
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "qcapp dataset fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FetchError(
            f"Cannot download {url}: {reason}. Without internet access, download the file "
            "elsewhere and import it with `qc dataset import PATH --name uiuc`."
        ) from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise FetchError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes; refusing it.")
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise FetchError(f"{url} has sha256 {digest}, expected {sha256}; not importing it.")
    return data


def fetch_uiuc(url: str, sha256: str, *, actor: str | None = None) -> tuple[Dataset, LoadResult]:
    """Download the official UIUC training file, verify it and import it as dataset ``uiuc``."""
    import tempfile

    data = download_verified(url, sha256)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "train_5500.label"
        path.write_bytes(data)
        return import_dataset(path, "uiuc", actor=actor)
