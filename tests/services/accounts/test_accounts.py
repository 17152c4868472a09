"""Managing accounts: roles, enabling and disabling, password resets, the lockout guard, and the
commands that call the same services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qcapp.models import AuditEvent, User
from qcapp.services.accounts.accounts import (
    AccountError,
    LockoutRefused,
    active_admins,
    create_admin,
    reset_password,
    set_active,
    set_role,
)

PASSWORD = "long enough pw"


@pytest.fixture
def team(db):
    """Two admins and a reviewer."""
    return {
        name: create_admin(name, PASSWORD, role=role, actor="setup")
        for name, role in (("ada", "admin"), ("bob", "admin"), ("rita", "reviewer"))
    }


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_create_refuses_invisible_characters_and_records_who(db):
    with pytest.raises(AccountError, match="invisible"):
        create_admin("ev\u200bil", PASSWORD)
    create_admin("carol", PASSWORD, role="reviewer", actor="ada")
    [event] = events(db, "user_created")
    assert (event.actor, event.target_id, event.details) == ("ada", "carol", {"role": "reviewer"})


def test_role_change_is_audited_and_applies(db, team):
    set_role("rita", "admin", "ada", acting=team["ada"])
    assert db.session.get(User, team["rita"].id).is_admin
    [event] = events(db, "user_role_changed")
    assert event.actor == "ada" and event.details == {"from": "reviewer", "to": "admin"}
    with pytest.raises(AccountError, match="owner"):
        set_role("rita", "owner", "ada", acting=team["ada"])


def test_an_admin_cannot_demote_or_disable_itself(db, team):
    for change in (
        lambda: set_role("ada", "reviewer", "ada", acting=team["ada"]),
        lambda: set_active("ada", False, "ada", acting=team["ada"]),
    ):
        with pytest.raises(LockoutRefused, match="your own account"):
            change()
    ada = db.session.get(User, team["ada"].id)
    assert ada.is_admin and ada.active
    assert not events(db, "user_role_changed") and not events(db, "user_disabled")


def test_the_last_active_admin_is_kept(db, team):
    set_active("bob", False, "ada", acting=team["ada"])
    assert active_admins() == 1
    # rita, promoted, tries to take the last other admin away: refused either way.
    set_role("rita", "admin", "ada", acting=team["ada"])
    set_role("rita", "reviewer", "ada", acting=team["ada"])
    rita = db.session.get(User, team["rita"].id)
    for change in (
        lambda: set_active("ada", False, "rita", acting=rita),
        lambda: set_role("ada", "reviewer", "rita", acting=rita),
    ):
        with pytest.raises(LockoutRefused, match="last active admin"):
            change()
    assert active_admins() == 1
    # A disabled admin does not count, and enabling one again is always allowed.
    set_active("bob", True, "ada", acting=team["ada"])
    set_active("ada", False, "bob", acting=db.session.get(User, team["bob"].id))
    assert active_admins() == 1


def test_the_guard_holds_when_the_check_before_the_change_was_passed(db, team, monkeypatch):
    """Two admins demoting each other at once: the second sees the first's change and stops."""
    from qcapp.services.accounts import accounts

    set_active("bob", False, "ada", acting=team["ada"])
    monkeypatch.setattr(accounts, "_refuse_lockout", lambda *args: None)
    with pytest.raises(LockoutRefused, match="last active admin"):
        set_active("ada", False, "rita", acting=db.session.get(User, team["rita"].id))
    assert db.session.get(User, team["ada"].id).active


def test_reset_ends_sessions_and_a_generated_password_is_returned_once(db, team):
    rita = db.session.get(User, team["rita"].id)
    generation = rita.session_generation
    password = reset_password("rita", None, "ada", acting=team["ada"])
    assert len(password) == 24 and rita.check_password(password)
    assert rita.session_generation == generation + 1
    typed = reset_password("rita", "another long one", "ada", acting=team["ada"])
    assert typed == "another long one" and rita.check_password(typed)
    details = [event.details for event in events(db, "password_reset")]
    assert details == [{"generated": True}, {"generated": False}]
    assert all(password not in str(event.details) for event in events(db, "password_reset"))


def test_reset_keeps_the_rules_and_refuses_ones_own_account(db, team):
    with pytest.raises(AccountError, match="at least 8"):
        reset_password("rita", "short", "ada", acting=team["ada"])
    with pytest.raises(AccountError, match="password page"):
        reset_password("ada", "long enough again", "ada", acting=team["ada"])
    with pytest.raises(AccountError, match="no account named"):
        reset_password("nobody", None, "ada", acting=team["ada"])


def test_commands_call_the_same_services(runner, db, team):
    result = runner.invoke(args=["qc", "set-role", "rita", "admin"])
    assert result.exit_code == 0 and "rita is now an admin" in result.output
    result = runner.invoke(args=["qc", "set-password", "rita", "--generate"])
    assert result.exit_code == 0, result.output
    password = result.output.split("(shown only now): ")[1].split()[0]
    assert db.session.get(User, team["rita"].id).check_password(password)
    result = runner.invoke(args=["qc", "set-password", "rita"], input="typed password\n")
    assert result.exit_code == 0 and "sessions have ended" in result.output
    result = runner.invoke(args=["qc", "set-password", "nobody"], input="typed password\n")
    assert result.exit_code != 0 and "no account named 'nobody'" in result.output
    actions = [(e.actor, e.action) for e in db.session.scalars(select(AuditEvent))]
    assert ("cli", "user_role_changed") in actions and ("cli", "password_reset") in actions


def test_the_command_line_may_leave_no_admin_but_says_so(runner, db, team):
    # The command line is the way back in: it is not refused, it warns.
    for name in ("ada", "bob"):
        result = runner.invoke(args=["qc", "disable-user", name])
        assert result.exit_code == 0, result.output
    assert "No active admin is left" in result.output
    assert active_admins() == 0
    result = runner.invoke(args=["qc", "enable-user", "ada"])
    assert result.exit_code == 0 and active_admins() == 1
