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

from sqlalchemy import Connection, and_, select

from peelkit.workbench.tables import corrections, releases

JUDGMENTS = "judgments"


def due_bundle(conn: Connection, now: datetime) -> str | None:
    """The bundle the public site serves at ``now``: the latest release due and not cancelled
    (None: no release yet, the site's own pointer applies)."""
    return conn.execute(
        select(releases.c.bundle)
        .where(
            and_(releases.c.at <= now, releases.c.cancelled_at.is_(None), releases.c.bundle != "")
        )
        .order_by(releases.c.at.desc(), releases.c.id.desc())
        .limit(1)
    ).scalar()


def switch(conn: Connection, now: datetime) -> tuple[str | None, datetime | None]:
    """What the public site serves at ``now`` (``due_bundle``), and when that next changes
    (the earliest release pending, None if none): caches must not outlive it."""
    upcoming = pending(conn, now)
    return due_bundle(conn, now), upcoming[0].at if upcoming else None


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
    site: Path, judgments: Path, notices_: list[dict[str, Any]], served_version: str | None
) -> str:
    """Write a bundle of ``site`` as it is now published (same warehouse, periods, reports
    and PDFs) but with the judgments in ``judgments``, and leave it unpublished: the version."""
    from peelkit.errors import WorkbenchError
    from peelkit.publish import publish

    served = served_manifest(site, served_version)
    if served is None:
        raise WorkbenchError(
            f"the site {site} has nothing published yet, so there is no data to release the "
            "judgments with; run `peelkit publish` (or `peelkit demo`) first"
        )
    from datetime import date

    rendered = []
    if not served.get("with_reports"):
        rendered = reports_again(site, served, judgments)
    made = publish(
        Path(served["warehouse"]),
        site,
        cycles=[c["cycle"] for c in served["cycles"]],
        period_ends=[
            date.fromisoformat(p["period_end"])
            for p in served.get("periods", [])
            if p["cycle"] is None
        ],
        judgments_folder=judgments,
        reports=bool(served.get("with_reports")),
        pdf=bool(served.get("pdf", True)),
        rendered=rendered,
        point=False,
    )
    (made.folder / "corrections.json").write_text(
        json.dumps(notices_, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return made.version


def reports_again(
    site: Path, served: dict[str, Any], judgments: Path
) -> list[tuple[str, str, Path]]:
    """The reports a bundle published without every force's report holds (``peelkit demo``
    publishes the Met's, with its PDF), made again with the judgments in ``judgments`` (each
    with a PDF if it had one), into the site's report cache: (period key, force, folder), for
    ``publish(rendered=...)``. A report of an inspection is made again only for a force whose
    judgments are released (the others' grades are "not recorded" in the new bundle, so their
    old report would contradict it)."""
    from datetime import date

    from peelkit import service
    from peelkit.indicators.periods import for_cycle, for_date
    from peelkit.judgments import load_folder
    from peelkit.publish import BUNDLES

    out = []
    folder = site / BUNDLES / str(served["version"]) / "reports"
    for period in served.get("periods", []):
        held = folder / period["key"]
        if not held.is_dir():
            continue
        cycle = period["cycle"]
        when = (
            for_cycle(cycle)
            if cycle is not None
            else for_date(date.fromisoformat(period["period_end"]))
        )
        released = load_folder(judgments, cycle) if cycle is not None else None
        with_pdf: dict[bool, list[str]] = {}
        for force in sorted(p for p in held.iterdir() if p.is_dir()):
            if released is None or force.name in released:
                with_pdf.setdefault(any(force.glob("*.pdf")), []).append(force.name)
        for pdf, forces in sorted(with_pdf.items()):
            for made in service.reports(
                Path(served["warehouse"]),
                forces,
                site / "report-cache" / period["key"],
                when,
                judgments_folder=judgments if cycle is not None else None,
                pdf=pdf,
                allow_gaps=True,
            ):
                out.append((period["key"], made.force, made.files.html.parent))
    return out


def served_manifest(site: Path, version: str | None = None) -> dict[str, Any] | None:
    """The manifest of bundle ``version`` (default: the one the site's own pointer names)."""
    from peelkit.publish import BUNDLES, current

    folder = site / BUNDLES / version if version else current(site)
    if folder is None or not (folder / "manifest.json").is_file():
        return None
    return dict(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))


def discard(site: Path, version: str, judgments: Path | None) -> None:
    """Remove a bundle that was prepared but never released (its release was refused)."""
    from peelkit.publish import BUNDLES

    shutil.rmtree(site / BUNDLES / version, ignore_errors=True)
    if judgments is not None:
        shutil.rmtree(judgments, ignore_errors=True)
