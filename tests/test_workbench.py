"""The workbench's service on a real database (SQLite and PostgreSQL): accounts and sign-in,
the permission table, the workflow, validation, import/export, releases and the audit trail.
Every refused request must leave the database exactly as it was."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from peelkit.errors import (
    Forbidden,
    InvalidInput,
    InvalidStep,
    NotFound,
    SignInRefused,
    StaleVersion,
)
from peelkit.judgments import demo_judgments, parse_judgments
from peelkit.workbench import accounts, audit, roles
from peelkit.workbench.database import Database, open_database
from peelkit.workbench.service import content_of
from tests.workbench_support import KENT, MET, PASSWORD, Team, met_draft, team, to_approved


@pytest.fixture
def t(workbench_url: str) -> Iterator[Team]:
    made = team(workbench_url)
    yield made
    made.wb.db.dispose()


def audit_count(t: Team) -> int:
    with t.wb.db.read() as conn:
        return audit.count(conn)


# -- the schema --------------------------------------------------------------------------------


def test_a_new_database_is_made_by_the_migrations_and_matches_the_schema(workbench_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from peelkit.workbench.tables import metadata

    with open_database(workbench_url) as db, db.engine.connect() as conn:
        assert db.revision() == db.head() == "0002"
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_database_of_the_previous_schema_is_upgraded_keeping_its_rows(workbench_url):
    with Database(workbench_url) as db:
        db.upgrade("0001")
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, display_name, role, force, password_hash, "
                    "active, failed_sign_ins, created_at) VALUES ('old', 'Old User', "
                    "'inspector', NULL, 'x', true, 0, '2026-01-01 00:00:00')"
                )
            )
        with pytest.raises(Exception, match="0001"):
            open_database(workbench_url, upgrade=False)
        open_database(workbench_url).dispose()  # upgrades
        with db.read() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["old"]
            assert conn.execute(text("SELECT count(*) FROM releases")).scalar_one() == 0
        assert db.revision() == "0002"


# -- accounts ----------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes_only(t):
    with t.wb.db.read() as conn:
        hashes = conn.execute(text("SELECT password_hash FROM users")).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


def test_a_user_with_bad_fields_is_refused_field_by_field_and_nothing_is_written(t):
    before = audit_count(t)
    with pytest.raises(InvalidInput) as refused:
        t.wb.add_user(None, "Bad Name!", "", "superuser", "short", force="Atlantis")
    assert set(refused.value.problems) == {"username", "role", "password", "display_name", "force"}
    with pytest.raises(InvalidInput) as taken:
        t.wb.add_user(None, "lead", "Another", "analyst", PASSWORD)
    assert "username" in taken.value.problems
    with pytest.raises(InvalidInput):
        t.wb.add_user(None, "nobody", "No Force", "force liaison", PASSWORD)
    assert audit_count(t) == before


def test_only_admins_manage_users(t):
    for name in ("lead", "inspector", "analyst", "liaison"):
        with pytest.raises(Forbidden):
            t.wb.add_user(t.actors[name], "newuser", "New", "inspector", PASSWORD)
        with pytest.raises(Forbidden):
            t.wb.list_users(t.actors[name])
    t.wb.add_user(t.admin, "newuser", "New", "inspector", PASSWORD, assigned=["kent"])
    assert t.wb.actor("newuser").assigned == frozenset({KENT})


def test_sign_in_locks_the_account_after_five_failures_and_every_attempt_is_audited(t):
    before = audit_count(t)
    for _ in range(4):
        with pytest.raises(SignInRefused):
            t.wb.sign_in("inspector", "wrong password!")
    _user, token, _csrf = t.wb.sign_in("inspector", PASSWORD)  # a success resets the count
    assert t.wb.session(token).user.username == "inspector"
    for _ in range(5):
        with pytest.raises(SignInRefused):
            t.wb.sign_in("inspector", "wrong password!")
    with pytest.raises(SignInRefused) as locked:
        t.wb.sign_in("inspector", PASSWORD)  # right password, locked out
    assert "password" in str(locked.value)  # never says which was wrong
    t.clock.advance(minutes=16)
    t.wb.sign_in("inspector", PASSWORD)
    with t.wb.db.read() as conn:
        actions = [e.action for e in audit.entries(conn)][before:]
    assert actions.count("sign-in refused") == 10
    assert actions.count("signed in") == 2
    with pytest.raises(SignInRefused):
        t.wb.sign_in("no-such-user", PASSWORD)


def test_a_session_ends_at_sign_out_and_a_new_one_is_made_at_each_sign_in(t):
    _, first, _ = t.wb.sign_in("lead", PASSWORD)
    _, second, _ = t.wb.sign_in("lead", PASSWORD)
    assert first != second
    t.wb.sign_out(first)
    assert t.wb.session(first) is None
    assert t.wb.session(second) is not None
    t.clock.advance(hours=9)
    assert t.wb.session(second) is None  # expired


def test_a_session_carries_its_user_with_their_assigned_forces(t):
    for username in ("inspector", "lead", "liaison"):
        _, token, _ = t.wb.sign_in(username, PASSWORD)
        session = t.wb.session(token)
        assert session is not None
        with t.wb.db.read() as conn:
            assert session.user == accounts.load_user(conn, username=username)
    t.wb.assign(t.admin, "inspector", [KENT, MET])
    _, token, _ = t.wb.sign_in("inspector", PASSWORD)
    session = t.wb.session(token)
    assert session is not None and session.user.assigned == tuple(sorted([KENT, MET]))


def test_connections_the_database_server_closed_are_replaced_without_an_error(t):
    """A PostgreSQL restart (or an administrator) ends the pool's connections: the next reads
    and writes get new ones, with no error; the pool is not pinged on every checkout."""
    if t.wb.db.sqlite:
        pytest.skip("SQLite has no server")
    lock = met_draft(t)
    _, token, _ = t.wb.sign_in("lead", PASSWORD)
    # a few connections into the pool, used and checked in
    with t.wb.db.read(), t.wb.db.read(), t.wb.db.read():
        pass
    with t.wb.db.engine.connect() as conn:
        ours = set(conn.execute(text("SELECT pg_backend_pid()")).scalars())
    killer = Database(t.wb.db.url)
    try:
        with killer.engine.connect() as conn:
            ended = (
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        killer.dispose()
    assert len(ended) >= 3 and all(ended)
    session = t.wb.session(token)
    assert session is not None and session.user.username == "lead"
    assert t.wb.draft(t.lead, MET, 2016).status.lock == lock
    assert t.wb.step(t.inspector, MET, 2016, "submit", lock=lock).state == "submitted"
    with t.wb.db.engine.connect() as conn:
        assert set(conn.execute(text("SELECT pg_backend_pid()")).scalars()).isdisjoint(ours)


def test_disabling_or_resetting_a_password_ends_the_users_sessions(t):
    _, token, _ = t.wb.sign_in("analyst", PASSWORD)
    t.wb.reset_password(t.admin, "analyst", "a whole new passphrase")
    assert t.wb.session(token) is None
    _, token, _ = t.wb.sign_in("analyst", "a whole new passphrase")
    t.wb.disable_user(t.admin, "analyst")
    assert t.wb.session(token) is None
    with pytest.raises(SignInRefused):
        t.wb.sign_in("analyst", "a whole new passphrase")


# -- who may do what ---------------------------------------------------------------------------


def test_every_action_is_declared_once_and_every_role_is_in_the_table():
    assert set(roles.ROLES) == {"admin", "lead inspector", "inspector", "analyst", "force liaison"}
    rows = roles.table()
    assert [a for a, _ in rows] == list(roles.PERMISSIONS)
    assert all(set(cells) == set(roles.ROLES) for _, cells in rows)
    with pytest.raises(KeyError):
        roles.authorize(roles.Actor(1, "x", "admin"), "launch missiles")


def test_a_force_outside_the_actors_scope_is_not_found_never_forbidden(t):
    met_draft(t)
    for name in ("kent_inspector", "liaison", "kent_liaison", "admin"):
        with pytest.raises(NotFound):
            t.wb.draft(t.actors[name], MET, 2016)
        with pytest.raises(NotFound):
            t.wb.export_toml(t.actors[name], MET, 2016)
    # what they cannot read does not show in their list either
    assert t.wb.status(t.kent_inspector, 2016) == []
    assert [s.force for s in t.wb.status(t.analyst, 2016)] == [MET]
    # the analyst reads but edits nothing
    lock = t.wb.draft(t.analyst, MET, 2016).status.lock
    data = content_of(demo_judgments()[MET])
    with pytest.raises(Forbidden):
        t.wb.save(t.analyst, data, lock=lock)
    with pytest.raises(Forbidden):
        t.wb.step(t.analyst, MET, 2016, "submit", lock=lock)


def test_the_force_liaison_sees_their_forces_draft_only_during_the_factual_accuracy_check(t):
    lock = met_draft(t)
    with pytest.raises(NotFound):
        t.wb.draft(t.liaison, MET, 2016)
    lock = t.wb.step(t.inspector, MET, 2016, "submit", lock=lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "moderate", lock=lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "open factual accuracy check", lock=lock).lock
    assert t.wb.draft(t.liaison, MET, 2016).status.state == "factual accuracy check"
    t.wb.comment(t.liaison, MET, 2016, "The number of boroughs is right.")
    with pytest.raises(NotFound):
        t.wb.comment(t.kent_liaison, MET, 2016, "Kent's liaison tries the Met's draft.")
    with pytest.raises(Forbidden):
        t.wb.step(t.liaison, MET, 2016, "approve", lock=lock)
    t.wb.step(t.lead, MET, 2016, "approve", lock=lock)
    with pytest.raises(NotFound):  # the check is over
        t.wb.draft(t.liaison, MET, 2016)
    comments = t.wb.draft(t.lead, MET, 2016).comments
    assert [(c.author, c.kind) for c in comments] == [("liaison", "factual accuracy")]


# -- the workflow ------------------------------------------------------------------------------


def test_the_whole_workflow_with_a_return_and_a_resubmission(t):
    lock = met_draft(t)
    lock = t.wb.step(t.inspector, MET, 2016, "submit", lock=lock).lock
    with pytest.raises(InvalidInput):
        t.wb.step(t.lead, MET, 2016, "return", lock=lock)  # a return says why
    lock = t.wb.step(t.lead, MET, 2016, "return", lock=lock, comment="Say more on Q3.").lock
    data = content_of(demo_judgments()[MET])
    n = len(data["questions"][2]["summary"])
    data["questions"][2]["summary"] = [*data["questions"][2]["summary"], "More evidence here."]
    status = t.wb.save(t.inspector, data, lock=lock)
    assert (status.state, status.version) == ("returned", 2)
    lock = t.wb.step(t.inspector, MET, 2016, "resubmit", lock=status.lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "moderate", lock=lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "open factual accuracy check", lock=lock).lock
    status = t.wb.step(t.lead, MET, 2016, "approve", lock=lock)
    assert status.state == "approved"
    release = t.wb.schedule(t.lead, 2016, [MET], t.clock.now + timedelta(days=1))
    assert t.wb.status(t.lead, 2016)[0].state == "scheduled"
    t.clock.advance(days=1)
    (published,) = t.wb.status(t.lead, 2016)
    assert (published.state, published.published_version) == ("published", 2)
    with t.wb.db.read() as conn:
        entries = list(audit.entries(conn, force=MET, cycle=2016))
    assert [e.action for e in entries] == [
        "judgments created",
        "submit",
        "return",
        "judgments saved",
        "resubmit",
        "moderate",
        "open factual accuracy check",
        "approve",
        "schedule",
        "published",
    ]
    saved = entries[3].detail
    assert saved["changes"] == {f"questions[2].summary[{n}]": [None, "More evidence here."]}
    assert entries[-1].actor == "system" and entries[-1].detail["release"] == release


def test_steps_the_workflow_does_not_allow_are_refused_and_change_nothing(t):
    lock = met_draft(t)
    before = audit_count(t)
    for action in ("moderate", "approve", "open factual accuracy check", "resubmit", "correct"):
        with pytest.raises(InvalidStep):
            t.wb.step(t.lead, MET, 2016, action, lock=lock, comment="x")
    with pytest.raises(InvalidStep):
        t.wb.schedule(t.lead, 2016, [MET], None)
    assert audit_count(t) == before
    assert t.wb.draft(t.lead, MET, 2016).status.lock == lock


def test_a_lead_inspector_does_not_approve_a_version_they_wrote(t):
    t.wb.import_judgments(t.lead, demo_judgments()[MET])
    lock = t.wb.draft(t.lead, MET, 2016).status.lock
    lock = t.wb.step(t.lead, MET, 2016, "submit", lock=lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "moderate", lock=lock).lock
    lock = t.wb.step(t.lead, MET, 2016, "open factual accuracy check", lock=lock).lock
    with pytest.raises(Forbidden, match="someone else"):
        t.wb.step(t.lead, MET, 2016, "approve", lock=lock)
    assert t.wb.step(t.lead2, MET, 2016, "approve", lock=lock).state == "approved"


def test_approved_judgments_are_locked_against_edits(t):
    lock = to_approved_met(t)
    with pytest.raises(InvalidStep):
        t.wb.save(
            t.lead, content_of(demo_judgments()[MET]) | {"source": "Changed source"}, lock=lock
        )


def to_approved_met(t: Team) -> int:
    met_draft(t)
    return to_approved(t)


def test_a_save_against_a_stale_version_is_refused_and_nothing_is_overwritten(t):
    lock = met_draft(t)
    data = content_of(demo_judgments()[MET])
    first = dict(data, source="First editor's source line")
    second = dict(data, source="Second editor's source line")
    t.wb.save(t.inspector, first, lock=lock)
    with pytest.raises(StaleVersion) as stale:
        t.wb.save(t.lead, second, lock=lock)
    assert stale.value.expected == lock and stale.value.found == lock + 1
    assert t.wb.draft(t.lead, MET, 2016).content["source"] == "First editor's source line"
    with pytest.raises(StaleVersion):
        t.wb.step(t.inspector, MET, 2016, "submit", lock=lock)


def test_invalid_judgments_are_refused_with_the_checks_words_field_by_field(t):
    lock = met_draft(t)
    data = content_of(demo_judgments()[MET])
    data["overall"]["summary"] = "The Metropolitan Police Service in 2016 did {nonsense}."
    data["questions"][0]["grade"] = "brilliant"
    with pytest.raises(InvalidInput) as refused:
        t.wb.save(t.inspector, data, lock=lock)
    assert "questions[0].grade" in refused.value.problems
    data["questions"][0]["grade"] = "good"
    with pytest.raises(InvalidInput) as refused:
        t.wb.save(t.inspector, data, lock=lock)
    problems = refused.value.problems["overall.summary"]
    assert any("unknown placeholder {nonsense}" in p for p in problems)
    assert any("types the force's name" in p for p in problems)
    assert any("types the year 2016" in p for p in problems)
    assert t.wb.draft(t.lead, MET, 2016).status.version == 1


def test_export_and_import_round_trip_to_the_same_content(t, tmp_path):
    met_draft(t)
    exported = t.wb.export_toml(t.inspector, MET, 2016)
    again = parse_judgments(tomllib.loads(exported))
    assert again == demo_judgments()[MET]
    status = t.wb.import_toml(t.inspector, exported)
    assert status.version == 1  # the same content is not a new version
    path = tmp_path / "met.toml"
    path.write_text(exported, encoding="utf-8")
    from peelkit.judgments import load_judgments

    assert load_judgments(path) == demo_judgments()[MET]


def test_a_correction_is_a_new_version_with_a_notice_and_the_published_one_stays(t):
    to_approved_met(t)
    t.wb.schedule(t.lead, 2016, None, None)
    draft = t.wb.draft(t.lead, MET, 2016)
    assert (draft.status.state, draft.status.published_version) == ("published", 1)
    with pytest.raises(InvalidInput):
        t.wb.step(t.lead, MET, 2016, "correct", lock=draft.status.lock)  # a notice is required
    t.wb.step(
        t.lead, MET, 2016, "correct", lock=draft.status.lock, comment="The number of boroughs."
    )
    draft = t.wb.draft(t.lead, MET, 2016)
    assert (draft.status.state, draft.status.version, draft.status.published_version) == (
        "draft",
        2,
        1,
    )
    assert [n for _, n in draft.notices] == ["The number of boroughs."]


def test_a_release_is_cancelled_only_before_its_time_and_only_the_latest(t):
    to_approved_met(t)
    t.wb.import_judgments(t.kent_inspector, demo_judgments()[KENT])
    to_approved(t, KENT)
    first = t.wb.schedule(t.lead, 2016, [MET], t.clock.now + timedelta(hours=1))
    with pytest.raises(InvalidStep, match="later"):
        t.wb.schedule(t.lead, 2016, [KENT], t.clock.now + timedelta(minutes=30))
    second = t.wb.schedule(t.lead, 2016, [KENT], t.clock.now + timedelta(hours=2))
    with pytest.raises(InvalidStep, match="cancel that first"):
        t.wb.unschedule(t.lead, first)
    t.wb.unschedule(t.lead, second)
    assert {s.force: s.state for s in t.wb.status(t.lead, 2016)} == {
        MET: "scheduled",
        KENT: "approved",
    }
    t.clock.advance(hours=1, minutes=1)
    with pytest.raises(InvalidStep):
        t.wb.unschedule(t.lead, first)
    assert {s.force: s.state for s in t.wb.status(t.lead, 2016)}[MET] == "published"


# -- the audit trail ---------------------------------------------------------------------------


def test_the_audit_trail_is_append_only_in_the_database(t):
    met_draft(t)
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), t.wb.db.write() as conn:
            conn.execute(text(statement))
    assert t.wb.verify_audit(None).intact


def _without_guard(t: Team, statement: str) -> None:
    """What someone with the database's owner rights could do: switch the guard off."""
    with t.wb.db.write() as conn:
        if t.wb.db.sqlite:
            conn.execute(text("DROP TRIGGER audit_append_only_update"))
            conn.execute(text("DROP TRIGGER audit_append_only_delete"))
        else:
            conn.execute(text("ALTER TABLE audit DISABLE TRIGGER USER"))
        conn.execute(text(statement))


def test_verify_finds_an_edited_entry(t):
    met_draft(t)
    assert t.wb.verify_audit(t.lead).intact
    _without_guard(t, "UPDATE audit SET actor = 'someone else' WHERE seq = 3")
    result = t.wb.verify_audit(t.lead)
    assert not result.intact
    assert result.problems[0].startswith("entry 3 ")
    assert "changed" in result.problems[0]


def test_verify_finds_a_removed_entry(t):
    met_draft(t)
    _without_guard(t, "DELETE FROM audit WHERE seq = 4")
    result = t.wb.verify_audit(None)
    assert any("entry 4 is missing" in p for p in result.problems)


def test_only_admins_and_lead_inspectors_verify_the_audit_trail(t):
    for name in ("inspector", "analyst", "liaison"):
        with pytest.raises(Forbidden):
            t.wb.verify_audit(t.actors[name])


def test_a_forces_history_names_who_changed_what_from_what_to_what(t):
    lock = met_draft(t)
    data = content_of(demo_judgments()[MET])
    data["overall"]["grade"] = "good"
    t.wb.save(t.inspector, data, lock=lock)
    from peelkit.workbench.history import rows

    changed = [r for r in rows(t.wb.history(t.lead, MET, 2016)) if r["field"] == "overall.grade"]
    assert changed[-1]["actor"] == "inspector"
    assert (changed[-1]["before"], changed[-1]["after"]) == ("requires improvement", "good")
    with pytest.raises(NotFound):
        t.wb.history(t.kent_inspector, MET, 2016)
    with pytest.raises(NotFound):
        t.wb.history(t.admin, MET, 2016)  # no unpublished content for admins, even history


def test_cli_users_import_steps_export_status_and_audit_verify(tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from peelkit.cli import app
    from peelkit.judgments import demo_folder

    monkeypatch.chdir(tmp_path)
    db = ["--database", str(tmp_path / "wb.sqlite")]
    run = CliRunner().invoke
    for name, role, extra in (
        ("lee", "lead inspector", []),
        ("lou", "lead inspector", []),
        ("ian", "inspector", ["--assign", "metropolitan"]),
        ("fay", "force liaison", ["--force", "Metropolitan Police"]),
    ):
        result = run(
            app,
            [
                "users",
                "add",
                name,
                "--role",
                role,
                "--name",
                name.title(),
                "--password-stdin",
                *extra,
                *db,
            ],
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output
    result = run(app, ["users", "list", *db])
    assert "force liaison" in result.output and "E23000001" in result.output
    result = run(app, ["judgments", "import", str(demo_folder()), "--as", "lee", *db])
    assert result.exit_code == 0, result.output
    assert result.output.count("version 1, draft") == 43
    result = run(app, ["judgments", "import", str(demo_folder()), "--as", "ian", *db])
    assert isinstance(result.exception, NotFound)  # ian is assigned only the Met
    for step, who, extra in (
        ("submit", "lee", []),
        ("return", "lou", ["--comment", "Say more."]),
        ("resubmit", "ian", []),
        ("moderate", "lou", []),
        ("open-factual-accuracy-check", "lou", []),
    ):
        result = run(app, ["judgments", step, "metropolitan", "--as", who, *extra, *db])
        assert result.exit_code == 0, result.output
    result = run(app, ["judgments", "comment", "metropolitan", "Checked.", "--as", "fay", *db])
    assert result.exit_code == 0, result.output
    result = run(app, ["judgments", "approve", "metropolitan", "--as", "lee", *db])
    assert isinstance(result.exception, Forbidden) and "someone else" in str(result.exception)
    result = run(app, ["judgments", "approve", "metropolitan", "--as", "lou", *db])
    assert result.exit_code == 0, result.output
    result = run(app, ["judgments", "status", "--as", "fay", *db])
    assert "Metropolitan" not in result.output  # the check is over: nothing for the liaison
    result = run(app, ["judgments", "export", "metropolitan", "--as", "ian", *db])
    assert parse_judgments(tomllib.loads(result.output)) == demo_judgments()[MET]
    result = run(app, ["audit", "verify", *db])
    assert result.exit_code == 0 and "intact" in result.output
    result = run(app, ["audit", "export", "metropolitan", "--as", "lou", *db])
    assert result.output.splitlines()[0].startswith("seq,at,actor,action")
    assert ",lou,return,E23000001,2016,state,submitted,returned," in result.output
    with Database(tmp_path / "wb.sqlite") as tampered, tampered.write() as conn:
        conn.execute(text("DROP TRIGGER audit_append_only_update"))
        conn.execute(text("UPDATE audit SET detail = '{}' WHERE seq = 10"))
    result = run(app, ["audit", "verify", *db])
    assert result.exit_code == 1 and "entry 10" in result.output


def test_many_failed_sign_ins_from_one_address_throttle_it_whatever_the_names(t):
    from peelkit.workbench.accounts import THROTTLE_AFTER

    for i in range(THROTTLE_AFTER):  # spraying one password over many names
        with pytest.raises(SignInRefused):
            t.wb.sign_in(f"someone{i}", "Summer2027!", address="203.0.113.9")
    with pytest.raises(SignInRefused, match="too many"):
        t.wb.sign_in("lead", PASSWORD, address="203.0.113.9")  # even the right password
    t.wb.sign_in("lead", PASSWORD, address="198.51.100.7")  # another address is not held up
    t.clock.advance(minutes=16)
    t.wb.sign_in("lead", PASSWORD, address="203.0.113.9")
    with t.wb.db.read() as conn:
        refused = [e for e in audit.entries(conn) if e.action == "sign-in refused"]
    assert {e.detail["address"] for e in refused} == {"203.0.113.9"}
    assert refused[-1].detail["why"] == "throttled"


# -- a release on a real site ------------------------------------------------------------------


def _site_team(demo_run, tmp_path: Path, url: str) -> tuple[Team, Path]:
    import shutil

    site = tmp_path / "site"
    shutil.copytree(demo_run.site, site)
    made = team(url, site=site)
    for by, force in ((made.inspector, MET), (made.kent_inspector, KENT)):
        made.wb.import_judgments(by, demo_judgments()[force])
    return made, site


def test_a_release_whose_bundle_cannot_be_made_leaves_the_site_and_the_database(
    workbench_url, demo_run, tmp_path, monkeypatch
):
    import peelkit.publish

    made, site = _site_team(demo_run, tmp_path, workbench_url)
    try:
        to_approved(made)
        bundles = sorted(p.name for p in (site / "bundles").iterdir())
        before = audit_count(made)

        def fails(*_args, **_kwargs):
            raise OSError("No space left on device")

        monkeypatch.setattr(peelkit.publish, "publish", fails)
        with pytest.raises(OSError, match="No space"):
            made.wb.schedule(made.lead, 2016, [MET], None)
        # the bundles already published are all there (the public site goes on serving them),
        # the release's judgments folder is gone, and nothing was written
        assert sorted(p.name for p in (site / "bundles").iterdir()) == bundles
        assert not any((site / "judgments").iterdir())
        assert audit_count(made) == before
        assert made.wb.draft(made.lead, MET, 2016).status.state == "approved"
    finally:
        made.wb.db.dispose()
