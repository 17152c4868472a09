"""What admin pages call things: a dataset by its name, and what the gate's numbers measure."""

from __future__ import annotations

from qcapp.models import Dataset, ModelVersion


def test_the_example_form_names_the_dataset(admin_client, db):
    db.session.add(Dataset(name="uiuc-train", is_active=True))
    db.session.commit()
    html = admin_client.get("/admin/examples/new/").get_data(as_text=True)
    assert ">uiuc-train</option>" in html and "&lt;Dataset" not in html


def test_a_version_page_says_what_the_cross_validated_numbers_are(admin_client, db):
    scores = {"coarse_accuracy": 0.5, "fine_accuracy": 0.2143, "n": 14}
    version = ModelVersion(
        version="v-cv", artifact_path="x", artifact_sha256="0" * 64,
        evaluation={"candidate": {"coarse_accuracy": 0.9, "fine_accuracy": 0.8, "n": 500},
                    "reference": None, "reference_version": None, "corrections_cv": scores,
                    "promoted": True, "reason": "first version"},
    )
    db.session.add(version)
    db.session.commit()
    html = admin_client.get(f"/admin/versions/{version.id}").get_data(as_text=True)
    assert "Visitor-labelled questions, cross-validated" in html
    assert "50.00%" in html and "21.43%" in html
    assert "coarse, then fine accuracy on" in html and "split in three" in html
    assert 'aria-describedby="gate-help"' in html and 'id="gate-help"' in html
