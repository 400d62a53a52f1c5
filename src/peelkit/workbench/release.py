"""Publication: the judgments to release are written as a judgments folder, a bundle of the
site is made from it — records, grades, the national overview, every report — and stored
unpublished; a release row then names the bundle and its time. The public site serves the
latest release that is due (``due_bundle``), so at the release time everything appears at
once, and before it nothing of it is served anywhere: the bundle is not reachable by any URL
until a due release names it."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from peelkit import reference
from peelkit.workbench.tables import corrections, releases

JUDGMENTS = "judgments"
#: How a release's report workers start. Not fork: the server's process has threads and open
#: database connections, and forked workers hold copies of them. After a kill -9 of the server
#: alone (or the OOM killer's) they lived on holding its PostgreSQL sockets, so the database
#: never saw the connections close, and a transaction open in another thread at the fork
#: would keep its locks (the workbench's write lock among them) for good.
REPORT_WORKERS = "forkserver"


def _due(now: datetime) -> Select[str]:
    return (
        select(releases.c.bundle)
        .where(
            and_(releases.c.at <= now, releases.c.cancelled_at.is_(None), releases.c.bundle != "")
        )
        .order_by(releases.c.at.desc(), releases.c.id.desc())
        .limit(1)
    )


def due_bundle(conn: Connection, now: datetime) -> str | None:
    """The bundle the public site serves at ``now``: the latest release due and not cancelled
    (None: no release yet, the site's own pointer applies)."""
    return conn.execute(_due(now)).scalar()


def switch(conn: Connection, now: datetime) -> tuple[str | None, datetime | None]:
    """What the public site serves at ``now`` (``due_bundle``), and when that next changes
    (the earliest release pending, None if none): caches must not outlive it. One statement
    (the public site asks on every request), so one snapshot even outside a transaction."""
    upcoming = select(func.min(releases.c.at)).where(
        and_(releases.c.at > now, releases.c.cancelled_at.is_(None))
    )
    row = conn.execute(
        select(
            _due(now).scalar_subquery().label("due"),
            upcoming.scalar_subquery().label("next"),
        )
    ).one()
    return row.due, row.next


def pending(conn: Connection, now: datetime) -> list[Any]:
    """Releases scheduled for later and not cancelled, earliest first."""
    return list(
        conn.execute(
            select(releases)
            .where(and_(releases.c.at > now, releases.c.cancelled_at.is_(None)))
            .order_by(releases.c.at, releases.c.id)
        )
    )


def notices(conn: Connection, included: dict[tuple[str, int], int]) -> list[dict[str, Any]]:
    """The correction notices published with the versions ``included`` ((force, cycle) →
    version id): each correction whose version is the one released or an earlier one."""
    out = []
    for row in conn.execute(select(corrections).order_by(corrections.c.id)):
        released = included.get((row.force, row.cycle))
        if released is not None and row.version_id <= released:
            out.append(
                {
                    "force": row.force,
                    "cycle": row.cycle,
                    "at": row.created_at.isoformat(timespec="seconds"),
                    "notice": row.notice,
                }
            )
    return out


def write_folder(folder: Path, documents: list[dict[str, Any]]) -> None:
    """The judgments released, as the TOML files ``peelkit judgments check`` reads."""
    import tomli_w

    folder.mkdir(parents=True)
    for doc in documents:
        name = f"{doc['force']}-{doc['cycle']}.toml"
        (folder / name).write_text(tomli_w.dumps(doc, multiline_strings=True), encoding="utf-8")


def prepare_bundle(
    site: Path,
    judgments: Path,
    notices_: list[dict[str, Any]],
    served_version: str | None,
    releasing: list[str],
) -> str:
    """Write a bundle of ``site`` as it is now published (same warehouse, periods and PDFs)
    but with the judgments in ``judgments``, and leave it unpublished: the version.

    ``judgments`` holds what the workbench releases; every other force keeps the judgments the
    served bundle was published with (they are added to the folder), so releasing one force
    never takes another's grades off the site. Its reports are every force's if the site has
    every force's; else the reports the served bundle holds and those of the forces
    ``releasing`` (their judgments changed), all made again with the released judgments."""
    from peelkit.errors import WorkbenchError
    from peelkit.publish import publish

    served = served_manifest(site, served_version)
    if served is None:
        raise WorkbenchError(
            f"the site {site} has nothing published yet, so there is no data to release the "
            "judgments with; run `peelkit publish` (or `peelkit demo`) first"
        )
    from datetime import date

    cycles = [int(c["cycle"]) for c in served["cycles"]]
    keep_served_judgments(judgments, served, cycles)
    forces, kept = report_forces(site, served, judgments, cycles, releasing)
    made = publish(
        Path(served["warehouse"]),
        site,
        cycles=cycles,
        period_ends=[
            date.fromisoformat(p["period_end"])
            for p in served.get("periods", [])
            if p["cycle"] is None
        ],
        judgments_folder=judgments,
        reports=True,
        report_forces=forces,
        pdf=bool(served.get("pdf", True)),
        rendered=kept,
        point=False,
        start_method=REPORT_WORKERS,
    )
    (made.folder / "corrections.json").write_text(
        json.dumps(notices_, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return made.version


def keep_served_judgments(folder: Path, served: dict[str, Any], cycles: list[int]) -> None:
    """Add to ``folder`` (the judgments released) the served bundle's judgments of every force
    and cycle it does not hold, as judgments files."""
    import tomli_w

    from peelkit import service
    from peelkit.judgments import load_folder

    before = Path(served["judgments"]) if served.get("judgments") else None
    for cycle in cycles:
        released = load_folder(folder, cycle)
        for code, judged in service.judgments(cycle, before, served.get("labels", [])).items():
            if code not in released:
                doc = judged.model_dump(mode="json", exclude_none=True)
                (folder / f"{code}-{cycle}.toml").write_text(
                    tomli_w.dumps(doc, multiline_strings=True), encoding="utf-8"
                )


def report_forces(
    site: Path, served: dict[str, Any], judgments: Path, cycles: list[int], releasing: list[str]
) -> tuple[list[str] | None, list[tuple[str, str, Path]]]:
    """Which reports the new bundle makes again, and which it keeps as the served bundle has
    them. Made again, with the released judgments: every force's if the served bundle has
    every force's, else those it has and the forces ``releasing`` — in both cases only forces
    with judgments in ``judgments`` (a report never borrows grades). Kept, linked as they are:
    the served reports of forces without judgments (nothing of theirs changed)."""
    from peelkit.judgments import load_folder
    from peelkit.publish import BUNDLES

    judged: set[str] = set()
    for cycle in cycles:
        judged |= set(load_folder(judgments, cycle))
    folder = site / BUNDLES / str(served["version"]) / "reports"
    held = {(p.parent.name, p.name): p for p in folder.glob("*/*") if p.is_dir()}
    every = {f.code for f in reference.territorial_forces()}
    wanted = every if served.get("with_reports") else {f for _, f in held} | set(releasing)
    made = sorted(wanted & judged)
    kept = [
        (key, force, path) for (key, force), path in sorted(held.items()) if force not in judged
    ]
    return (None if set(made) == every else made), kept


def served_manifest(site: Path, version: str | None = None) -> dict[str, Any] | None:
    """The manifest of bundle ``version`` (default: the one the site's own pointer names)."""
    from peelkit.publish import BUNDLES, current

    folder = site / BUNDLES / version if version else current(site)
    if folder is None or not (folder / "manifest.json").is_file():
        return None
    return dict(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def discard(site: Path, version: str, judgments: Path | None) -> None:
    """Remove a bundle that was prepared but never released (its release was refused), and
    its judgments folder. ``version`` "": no bundle was made (its making failed), only the
    judgments folder goes — never the folder of every bundle."""
    from peelkit.publish import BUNDLES

    if version:
        shutil.rmtree(site / BUNDLES / version, ignore_errors=True)
    if judgments is not None:
        shutil.rmtree(judgments, ignore_errors=True)
