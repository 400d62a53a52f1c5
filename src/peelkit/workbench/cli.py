"""The workbench's commands: ``peelkit users``, the workflow steps under ``peelkit judgments``
(import, export, status, submit, …, schedule, publish), ``peelkit audit``, and the database's
``peelkit workbench upgrade``, ``peelkit backup`` and ``peelkit restore``.

Whoever runs these holds the database, so ``peelkit users`` acts as the operator (audited as
such); the workflow steps act as the user named by ``--as``, with that user's permissions —
the same service calls, checks and audit entries as the pages and the API."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from peelkit import display
from peelkit.present import console, err

if TYPE_CHECKING:
    from peelkit.workbench.service import Workbench

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="The workbench database: a SQLite file, or postgresql://USER@HOST/NAME. Default: "
        "$PEELKIT_DATABASE, else peelkit-workbench.sqlite here.",
    ),
]
AsOpt = Annotated[str, typer.Option("--as", help="The user taking the step (peelkit users list).")]
CycleOpt = Annotated[int, typer.Option(help="The inspection cycle.")]
ForceArg = Annotated[str, typer.Argument(help="The force: code, police.uk id or name.")]
CommentOpt = Annotated[str | None, typer.Option(help="A comment kept with the step.")]
ReasonOpt = Annotated[
    str | None, typer.Option(help="Why (required): the inspector or the public reads it.")
]
SiteOpt = Annotated[
    Path, typer.Option(help="The published site the release switches (peelkit serve serves it).")
]

users_app = typer.Typer(help="The workbench's users and roles (for the operator and admins).")
audit_app = typer.Typer(help="The workbench's audit trail: verify the chain, export a history.")
workbench_app = typer.Typer(help="The workbench's database: its schema.")


def workbench(database: str | None, site: Path | None = None) -> Workbench:
    from peelkit.workbench.database import open_database
    from peelkit.workbench.service import Workbench

    return Workbench(open_database(database), site=site)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The sign-in name (lower case).")],
    role: Annotated[
        str,
        typer.Option(help="admin, lead inspector, inspector, analyst or force liaison."),
    ],
    name: Annotated[str, typer.Option("--name", help="The person's name as shown.")],
    force: Annotated[str | None, typer.Option(help="A force liaison's force.")] = None,
    assign: Annotated[
        list[str] | None, typer.Option(help="An inspector's force (repeat for more).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (scripts).")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Add a user with a role (the password is asked for, or read from stdin)."""
    password = _password(password_stdin)
    user = workbench(database).add_user(
        None, username, name, role, password, force=force, assigned=assign or ()
    )
    console.print(f"Added {user.username} ({user.role}).", highlight=False)


@users_app.command("list")
def users_list(database: DatabaseOpt = None) -> None:
    """Every user: role, force, assigned forces and whether active or locked."""
    from peelkit.present import rich_table

    table = rich_table(title="Workbench users")
    for column in ("user", "name", "role", "force", "assigned", "active"):
        table.add_column(column)
    for u in workbench(database).list_users(None):
        table.add_row(
            u.username,
            u.display_name,
            u.role,
            u.force or "",
            ", ".join(u.assigned),
            "yes" if u.active else "disabled",
        )
    console.print(table)


@users_app.command("disable")
def users_disable(username: str, database: DatabaseOpt = None) -> None:
    """Disable a user: they cannot sign in, and their sessions end now."""
    workbench(database).disable_user(None, username)
    console.print(f"Disabled {username}; their sessions have ended.", highlight=False)


@users_app.command("enable")
def users_enable(username: str, database: DatabaseOpt = None) -> None:
    """Enable a disabled (or locked-out) user again."""
    workbench(database).enable_user(None, username)
    console.print(f"Enabled {username}.", highlight=False)


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read it from standard input.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Set a new password (ending the user's sessions and any lock-out)."""
    workbench(database).reset_password(None, username, _password(password_stdin))
    console.print(f"New password set for {username}; their sessions have ended.", highlight=False)


@users_app.command("assign")
def users_assign(
    username: str,
    forces: Annotated[list[str], typer.Argument(help="The forces (all of them; replaces).")],
    database: DatabaseOpt = None,
) -> None:
    """Set the forces an inspector is assigned to."""
    workbench(database).assign(None, username, forces)
    console.print(f"{username} is assigned to {', '.join(forces)}.", highlight=False)


def register_judgments(judgments_app: typer.Typer) -> None:
    """Add the workflow commands to ``peelkit judgments``."""

    @judgments_app.command("import")
    def import_command(
        paths: Annotated[list[Path], typer.Argument(help="Judgments files (.toml) or folders.")],
        as_: AsOpt,
        cycle: CycleOpt = 2016,
        database: DatabaseOpt = None,
    ) -> None:
        """Import judgments files as new versions (a folder: every force's file, and the
        overall grades of overall-grades.csv)."""
        from peelkit.judgments import load_folder

        wb = workbench(database)
        actor = wb.actor(as_)
        for path in paths:
            if path.is_dir():
                found = load_folder(path, cycle)
                for code in sorted(found):
                    status = wb.import_judgments(actor, found[code])
                    console.print(
                        f"{code} {status.cycle}: version {status.version}, {status.state}",
                        highlight=False,
                    )
            else:
                status = wb.import_toml(actor, path.read_text(encoding="utf-8"), str(path))
                console.print(
                    f"{status.force} {status.cycle}: version {status.version}, {status.state}",
                    highlight=False,
                )

    @judgments_app.command("export")
    def export_command(
        force: ForceArg,
        as_: AsOpt,
        cycle: CycleOpt = 2016,
        out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
        published: Annotated[
            bool, typer.Option(help="The published version, not the one being worked on.")
        ] = False,
        database: DatabaseOpt = None,
    ) -> None:
        """Export a force's judgments as the TOML file inspectors edit."""
        wb = workbench(database)
        text = wb.export_toml(wb.actor(as_), force, cycle, published=published)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            err.print(f"Wrote {out}.", highlight=False)

    @judgments_app.command("status")
    def status_command(as_: AsOpt, cycle: CycleOpt = 2016, database: DatabaseOpt = None) -> None:
        """Where each force's judgments stand (the forces the user may see)."""
        from peelkit import reference
        from peelkit.present import rich_table

        wb = workbench(database)
        table = rich_table(title=f"Judgments, {cycle} cycle")
        for column in ("force", "state", "version", "by", "published version", "updated"):
            table.add_column(column)
        names = reference.force_by_code()
        for s in wb.status(wb.actor(as_), cycle):
            table.add_row(
                names[s.force].name,
                s.state,
                str(s.version),
                s.author or "",
                str(s.published_version or ""),
                s.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
        console.print(table)

    def _stepper(action: str, doc: str, needs_comment: bool) -> None:
        def command(
            force: ForceArg,
            as_: AsOpt,
            cycle: CycleOpt = 2016,
            comment: CommentOpt = None,
            database: DatabaseOpt = None,
        ) -> None:
            wb = workbench(database)
            actor = wb.actor(as_)
            lock = wb.draft(actor, force, cycle).status.lock
            status = wb.step(actor, force, cycle, action, lock=lock, comment=comment)
            console.print(f"{status.force} {cycle}: {status.state}.", highlight=False)

        command.__doc__ = doc
        if needs_comment:  # the option's help says it is required (checked by the service)
            command.__annotations__["comment"] = ReasonOpt
        judgments_app.command(action.replace(" ", "-"))(command)

    from peelkit.workbench.workflow import STEPS

    for s in STEPS:
        if s.action in ("schedule", "unschedule"):
            continue
        _stepper(s.action, s.wording + ".", s.needs_comment)

    @judgments_app.command("comment")
    def comment_command(
        force: ForceArg,
        text: Annotated[str, typer.Argument(help="The comment.")],
        as_: AsOpt,
        cycle: CycleOpt = 2016,
        database: DatabaseOpt = None,
    ) -> None:
        """Comment on a draft during the factual accuracy check (force liaison)."""
        wb = workbench(database)
        wb.comment(wb.actor(as_), force, cycle, text)
        console.print("Comment recorded.", highlight=False)

    @judgments_app.command("schedule")
    def schedule_command(
        as_: AsOpt,
        at: Annotated[
            datetime,
            typer.Option(
                formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M"],
                help="The publication time, e.g. 2027-03-02T00:01+00:00 (no offset: UK time).",
            ),
        ],
        forces: Annotated[
            list[str] | None, typer.Argument(help="Forces (default: every approved one).")
        ] = None,
        cycle: CycleOpt = 2016,
        site: SiteOpt = Path("peelkit-site"),
        database: DatabaseOpt = None,
    ) -> None:
        """Schedule approved judgments for publication at a time: the bundle and its reports
        are made now, and released by the site at that time, all at once."""
        from peelkit.workbench.clock import london

        wb = workbench(database, site)
        release = wb.schedule(wb.actor(as_), cycle, forces, london(at))
        console.print(f"Release {release} scheduled for {london(at).isoformat()}.", highlight=False)

    @judgments_app.command("unschedule")
    def unschedule_command(
        release: Annotated[int, typer.Argument(help="The release (peelkit judgments releases).")],
        as_: AsOpt,
        database: DatabaseOpt = None,
    ) -> None:
        """Cancel a scheduled release before its time."""
        wb = workbench(database)
        wb.unschedule(wb.actor(as_), release)
        console.print(f"Release {release} cancelled.", highlight=False)

    @judgments_app.command("publish")
    def publish_command(
        as_: AsOpt,
        forces: Annotated[
            list[str] | None, typer.Argument(help="Forces (default: every approved one).")
        ] = None,
        cycle: CycleOpt = 2016,
        site: SiteOpt = Path("peelkit-site"),
        database: DatabaseOpt = None,
    ) -> None:
        """Publish approved judgments now (a release due at once)."""
        wb = workbench(database, site)
        release = wb.schedule(wb.actor(as_), cycle, forces, None)
        console.print(f"Published (release {release}).", highlight=False)


@audit_app.command("verify")
def audit_verify(database: DatabaseOpt = None) -> None:
    """Walk the audit trail's hash chain; exit 1 naming the first entry that does not match."""
    result = workbench(database).verify_audit(None)
    if result.intact:
        console.print(
            f"The audit trail is intact: {display.count(result.entries)} entries.", highlight=False
        )
        return
    for problem in result.problems:
        err.print(problem, highlight=False, markup=False)
    err.print(
        f"The audit trail has been tampered with: {len(result.problems)} problem(s) "
        f"in {display.count(result.entries)} entries.",
        highlight=False,
    )
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    force: ForceArg,
    as_: AsOpt,
    cycle: CycleOpt = 2016,
    database: DatabaseOpt = None,
) -> None:
    """A force's history in a cycle as CSV (who, when, what, before → after)."""
    from peelkit.workbench.history import write_csv

    wb = workbench(database)
    write_csv(wb.history(wb.actor(as_), force, cycle), sys.stdout)


@workbench_app.command("upgrade")
def workbench_upgrade(database: DatabaseOpt = None) -> None:
    """Make the workbench database, or bring its schema to the newest, keeping every row."""
    from peelkit.workbench.database import Database, shown

    db = Database(database)
    before = db.revision()
    db.upgrade()
    console.print(f"{shown(db.url)}: schema {before or 'none'} → {db.revision()}.", highlight=False)


def backup_command(
    file: Annotated[Path, typer.Argument(help="The backup file to write (e.g. wb.backup.gz).")],
    database: DatabaseOpt = None,
) -> None:
    """Back up the workbench database into one portable file: every row of every table, read
    as one moment saw them (others may go on working), restorable into SQLite or PostgreSQL."""
    from peelkit.workbench.backup import backup
    from peelkit.workbench.database import Database, shown

    with Database(database) as db:
        header = backup(db, file)
        console.print(
            f"Backed up {shown(db.url)} (schema {header.revision}): "
            f"{display.count(header.rows)} rows of {len(header.tables)} tables, "
            f"{display.count(header.counts().get('audit', 0))} audit entries, to {file}.",
            highlight=False,
        )


def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup file made by peelkit backup.")],
    replace: Annotated[
        bool,
        typer.Option(
            help="Replace everything in a database that is not empty (in the same transaction)."
        ),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Restore a backup into an empty workbench database (made if new), in one transaction that
    checks the row counts and the audit trail's chain: all of it, or nothing."""
    from peelkit.workbench.backup import restore
    from peelkit.workbench.database import Database, shown

    with Database(database) as db:
        done = restore(db, file, replace=replace)
        header = done.header
        replaced = (
            f", replacing {display.count(sum(done.replaced.values()))} rows"
            if done.replaced
            else ""
        )
        console.print(
            f"Restored {display.count(header.rows)} rows of {len(header.tables)} tables from "
            f"{file} (made {header.created_at:%Y-%m-%d %H:%M UTC}, schema {header.revision}) "
            f"into {shown(db.url)}{replaced}.",
            highlight=False,
        )
        if done.upgraded_to:
            console.print(f"Upgraded its schema to {done.upgraded_to}.", highlight=False)
        console.print(
            f"The audit trail is intact: {display.count(done.audit_entries)} entries, the last "
            "recording this restore.",
            highlight=False,
        )


def register(app: typer.Typer, judgments_app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(workbench_app, name="workbench")
    register_judgments(judgments_app)
