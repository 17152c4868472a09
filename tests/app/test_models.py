"""Model constraints that protect the data."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qcapp.models import Correction, ModelVersion, Prediction, Query


def make_version(name: str, **fields) -> ModelVersion:
    return ModelVersion(version=name, artifact_path=name, artifact_sha256="0" * 64, **fields)


def test_defaults_are_computed_per_row(db):
    first, second = Query(text="a", normalized="a"), Query(text="b", normalized="b")
    db.session.add(first)
    db.session.commit()
    db.session.add(second)
    db.session.commit()
    assert first.created_at is not None and second.created_at >= first.created_at
    assert first.source == "web"


def test_only_one_active_version_at_database_level(db):
    db.session.add_all([make_version("a", is_active=True), make_version("b", is_active=True)])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_inactive_versions_may_be_many(db):
    db.session.add_all([make_version(f"v{i}") for i in range(3)])
    db.session.add(make_version("active", is_active=True))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ModelVersion)) == 4


def test_is_active_false_is_refused(db):
    db.session.add(make_version("x", is_active=False))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_activate_switches_the_single_active_row(db):
    from qcapp.services.learning.versions import activate_model_version, active_version

    a, b = make_version("a"), make_version("b")
    db.session.add_all([a, b])
    activate_model_version(a, reason="test")
    db.session.commit()
    activate_model_version(b, reason="test")
    db.session.commit()
    assert active_version().version == "b"
    assert a.is_active is None and a.status == "retired"


def test_deleting_a_query_deletes_its_prediction_and_corrections(db):
    query = Query(text="Who?", normalized="who")
    query.prediction = Prediction(
        coarse="HUM", fine="HUM:ind", coarse_confidence=0.9, fine_confidence=0.8
    )
    query.corrections.append(Correction(coarse="HUM", fine="HUM:desc"))
    db.session.add(query)
    db.session.commit()
    db.session.delete(query)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Prediction)) == 0
    assert db.session.scalar(select(func.count()).select_from(Correction)) == 0


def test_password_is_hashed(db):
    from qcapp.models import User

    user = User(username="u")
    user.set_password("s3cret-pass")
    assert user.password_hash.startswith("scrypt:")
    assert "s3cret-pass" not in user.password_hash
    assert user.check_password("s3cret-pass") and not user.check_password("wrong")
