"""Finding 5 without a browser: no inline handlers on admin pages; deletes ask and are guarded."""

import re

import pytest
from sqlalchemy import select

from qcapp.models import Example, ModelVersion
from qcapp.services.learning.versions import delete_version, traffic_served

from helpers import csrf_token_from, register_version

INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
PAGES = [
    "/admin/",
    "/admin/queries/",
    "/admin/corrections/",
    "/admin/examples/",
    "/admin/examples/new/",
    "/admin/examples/edit/?id=1",
    "/admin/examples/details/?id=1",
    "/admin/versions/",
    "/admin/runs/",
    "/admin/review/",
    "/admin/label-issues/",
    "/admin/users/",
    "/admin/users/new",
    "/admin/users/1",
    "/admin/audit/",
    "/account/password",
]


@pytest.fixture
def example(db):
    row = Example(text="How many moons has Mars?", normalized="x", coarse="NUM", fine="NUM:count")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("url", PAGES)
def test_no_admin_page_has_an_inline_handler(admin_client, example, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html)
    csp = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in script_src
    # Every script element carries the response's nonce.
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag


def test_list_delete_and_bulk_menu_are_declared_for_the_script(admin_client, example):
    html = admin_client.get("/admin/examples/").get_data(as_text=True)
    assert 'data-confirm="Delete this record? This cannot be undone."' in html
    assert 'data-bulk-action="delete"' in html and 'id="bulk-actions-data"' in html
    assert "admin-actions.js" in html and "admin/js/actions.js" not in html


def test_row_delete_still_posts_with_csrf(admin_client, db, example):
    html = admin_client.get("/admin/examples/").get_data(as_text=True)
    response = admin_client.post(
        "/admin/examples/delete/",
        data={"id": example.id, "url": "/admin/examples/", "csrf_token": csrf_token_from(html)},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Example.id)) is None


def test_bulk_delete_posts_the_ticked_rows(admin_client, db, example):
    other = Example(text="Who is it?", normalized="y", coarse="HUM", fine="HUM:ind")
    db.session.add(other)
    db.session.commit()
    html = admin_client.get("/admin/examples/").get_data(as_text=True)
    response = admin_client.post(
        "/admin/examples/action/",
        # Ids arrive as text; a nonsense one and one beyond the integer range are passed over.
        data={
            "action": "delete",
            "rowid": [str(example.id), "x", str(2**40)],
            "csrf_token": csrf_token_from(html),
        },
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Example.text)).all() == ["Who is it?"]


def test_a_version_that_served_traffic_is_kept(
    app, db, client, admin_client, model_version, trained_artifact
):
    spare = register_version(db, trained_artifact, "never-served")
    # The active fixture version answers a question; afterwards another version is activated.
    assert client.post("/api/v1/classify", json={"question": "Who?"}).status_code == 200
    from qcapp.services.learning.versions import activate_model_version

    replacement = register_version(db, trained_artifact, "replacement")
    activate_model_version(replacement, reason="test")
    db.session.commit()
    reason = traffic_served(model_version)
    assert reason and "served traffic" in reason and "1 stored answer" in reason
    with pytest.raises(ValueError, match="served traffic"):
        delete_version(model_version, actor="test")

    page = admin_client.get("/admin/versions/")
    html = page.get_data(as_text=True)
    assert html.count('data-confirm="Delete version') == 1  # only the never-served one
    refused = admin_client.post(
        f"/admin/versions/{model_version.id}/delete",
        data={"csrf_token": csrf_token_from(html)},
        follow_redirects=True,
    )
    assert "served traffic" in refused.get_data(as_text=True)
    assert db.session.get(ModelVersion, model_version.id) is not None

    assert traffic_served(spare) is None
    delete_version(spare, actor="test")
    assert (
        db.session.scalar(select(ModelVersion).where(ModelVersion.version == "never-served"))
        is None
    )
