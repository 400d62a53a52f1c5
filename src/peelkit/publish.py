"""Publishing: what the site serves, written once as an immutable bundle and switched on by one
pointer.

``peelkit publish`` computes the benchmark records of each cycle once (through the service
layer) and writes them, with everything a page or the API shows, into a new folder::

    SITE/
      current                    the name of the bundle the site serves (replaced atomically)
      bundles/<version>/
        manifest.json            version, when, peelkit's version, data labels, the periods
        forces.json              the 43 forces (code, name, police.uk id, region)
        catalogue.json           every indicator's definition, Annex A rule and exclusions
        records/<period>.json    the benchmark records, one row each (the API's long row)
        records/<period>.csv     the same rows as CSV
        grades/<cycle>.json      the inspectors' grades per force and question
        coverage.json            per force, period and source: present, partial or absent, why
        lineage/<period>/<force>/<indicator>.txt  how each figure was made (peelkit explain)
        sql/<period>/<indicator>.sql              the SQL of every force's numerator and denominator
        charts/<period>/<indicator>.svg           every force ranked (the report's chart)
        national/<cycle>/                         the national overview (HTML; PDF with reports)
        reports/<period>/<force>/                 the force's report (or data profile): HTML,
                                                  PDF, SVG, CSV

A period is an inspection cycle ("2016") or a data profile, named by its period end
("2018-03-31"): the same two ways the command line takes a period (--cycle, --period-end).
      report-cache/              reports kept between publications (unchanged ones not rebuilt)

The site reads only the bundle ``current`` names, so a page, the API, the CSV download and the
PDF report show the same value for the same force × indicator × period: they are all written
here from one computation. Nothing is computed while serving. A bundle is written under a
temporary name and renamed when complete; ``current`` is replaced in one step, so a reader sees
the old bundle or the new one, never half of one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from peelkit import __version__, reference, service
from peelkit.indicators.periods import PeriodEnd, for_cycle, for_date, known_cycles
from peelkit.warehouse import Waiting

DEFAULT_SITE = Path("peelkit-site")
POINTER = "current"
BUNDLES = "bundles"


@dataclass(frozen=True)
class Published:
    """A bundle written and switched on: where, its version, and what it holds."""

    folder: Path
    version: str
    records: int
    reports: int
    seconds: float


def publish(
    warehouse: Path,
    site: Path = DEFAULT_SITE,
    *,
    cycles: Iterable[int] | None = None,
    period_ends: Iterable[date] = (),
    judgments_folder: Path | None = None,
    reports: bool = True,
    pdf: bool = True,
    step: Callable[[str], None] = lambda _: None,
    on_wait: Waiting | None = None,
    computed: dict[str, list[Any]] | None = None,
    rendered: Iterable[tuple[str, str, Path]] = (),
    point: bool = True,
    report_forces: Iterable[str] | None = None,
    start_method: str | None = None,
) -> Published:
    """Write a new bundle of ``warehouse`` under ``site/bundles/`` and make it current: the
    inspection ``cycles`` (default: every cycle peelkit knows) and data profiles for
    ``period_ends`` (quarter ends), every force's report too with ``reports``. ``computed``
    holds records a caller has computed already, by period key (peelkit demo: computed once);
    ``rendered`` names reports already made, as (period key, force code, folder), which are
    published as they are; ``report_forces`` limits the reports made to those forces. With
    ``point`` False the bundle is written but not made current:
    the workbench releases it at its publication time (peelkit.workbench.release).
    ``start_method``: how the report workers start (report.batch.render_records)."""
    from peelkit.coverage import read_coverage
    from peelkit.indicators import explain as explaining
    from peelkit.indicators.catalogue import catalogue
    from peelkit.report.build import ranked_chart
    from peelkit.report.charts import svg
    from peelkit.report.national import build_national, write_national
    from peelkit.warehouse import data_labels

    started = time.perf_counter()
    chosen = sorted(cycles) if cycles else sorted(known_cycles())
    periods = [for_cycle(c) for c in chosen]
    for end in sorted(set(period_ends)):
        when = for_date(end)
        if all(w.end != when.end for w in periods):
            periods.append(when)
    bundles = site / BUNDLES
    bundles.mkdir(parents=True, exist_ok=True)
    work = bundles / f".writing-{os.getpid()}-{time.time_ns()}"
    work.mkdir()
    computed = dict(computed or {})
    only = sorted(set(report_forces)) if report_forces is not None else None
    try:
        step("Computing the records")
        with service.reading(warehouse, on_wait) as con:
            labels = data_labels(con)
            for when in periods:
                if period_key(when) not in computed:
                    computed[period_key(when)] = service.compute_records(con, when)
            coverage = read_coverage(con)
            step("Writing how each figure was made")
            for when in periods:
                _write_lineage(con, explaining, computed[period_key(when)], when, work)
        step("Writing the records, grades and charts")
        book = catalogue()
        _write_json(work / "forces.json", _forces())
        _write_json(
            work / "catalogue.json",
            [i.model_dump(mode="json") for i in book.indicator],
        )
        _write_json(
            work / "coverage.json",
            {
                "rows": [asdict(r) for r in coverage.rows],
                "counts": [asdict(c) for c in coverage.counts()],
                "gaps": [asdict(g) | {"forces": g.forces} for g in coverage.gaps()],
            },
        )
        total = 0
        for when in periods:
            key = period_key(when)
            records = computed[key]
            rows = [_row(r) for r in records]
            total += len(rows)
            _write_json(work / "records" / f"{key}.json", rows)
            _write_csv(work / "records" / f"{key}.csv", rows)
            if when.cycle is not None:  # grades and the overview belong to an inspection
                found = service.judgments(when.cycle, judgments_folder, labels)
                _write_json(work / "grades" / f"{key}.json", _grades(when.cycle, found))
                overview = build_national(records, found, when.cycle, "; ".join(labels) or None)
                # the overview's PDF (130 pages, about a minute) goes with every force's report
                full = pdf and reports and only is None
                write_national(overview, work / "national" / key, pdf=full)
            charts = work / "charts" / key
            charts.mkdir(parents=True)
            for ind in book.indicator:
                chart = ranked_chart(records, ind.id, None)
                if chart is not None:
                    (charts / f"{ind.id}.svg").write_text(svg(chart, ""), encoding="utf-8")
        made = 0
        for key, force_code, folder in rendered:
            _link_report(folder, work / "reports" / key / force_code)
            made += 1
        if reports:
            for when in periods:
                step(f"Writing the force reports: {when.title}")
                made += _reports(
                    warehouse, site, work, when, judgments_folder, pdf, on_wait, only, start_method
                )
        digest = hashlib.sha256()
        for when in periods:
            digest.update((work / "records" / f"{period_key(when)}.json").read_bytes())
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + digest.hexdigest()[:8]
        _write_json(
            work / "manifest.json",
            {
                "version": version,
                "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "peelkit_version": __version__,
                "labels": list(labels),
                "cycles": [
                    {"cycle": w.cycle, "period_end": w.end.isoformat(), "title": w.title}
                    for w in periods
                    if w.cycle is not None
                ],
                # every period published, inspections and data profiles: its key names its files
                "periods": [
                    {
                        "key": period_key(w),
                        "cycle": w.cycle,
                        "period_end": w.end.isoformat(),
                        "title": w.title,
                    }
                    for w in periods
                ],
                "records": total,
                "reports": made,
                # what to publish again when this warehouse changes (peelkit ingest)
                "warehouse": str(warehouse.resolve()),
                "with_reports": reports and only is None,
                # the forces whose reports were made, when not every force's
                "report_forces": only if reports else None,
                "pdf": pdf,
                "judgments": str(judgments_folder.resolve()) if judgments_folder else None,
            },
        )
        final = bundles / version
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if point:
        _point_to(site, version)
    return Published(final, version, total, made, time.perf_counter() - started)


def republish_if_published_from(
    warehouse: Path, site: Path, step: Callable[[str], None] = lambda _: None
) -> Published | None:
    """Publish ``site`` again, as it was last published, when its current bundle was
    published from ``warehouse`` (which has just changed); None when it was not."""
    folder = current(site)
    if folder is None:
        return None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("warehouse") != str(warehouse.resolve()):
        return None
    judgments = manifest.get("judgments")
    return publish(
        warehouse,
        site,
        cycles=[c["cycle"] for c in manifest["cycles"]],
        period_ends=[
            date.fromisoformat(p["period_end"])
            for p in manifest.get("periods", [])
            if p["cycle"] is None
        ],
        judgments_folder=Path(judgments) if judgments else None,
        reports=bool(manifest.get("with_reports") or manifest.get("report_forces")),
        report_forces=manifest.get("report_forces"),
        pdf=bool(manifest.get("pdf", True)),
        step=step,
    )


def period_key(when: PeriodEnd) -> str:
    """How a published period is named in a bundle and in the site's addresses: an inspection
    by its cycle ("2016"), a data profile by its period end ("2018-03-31")."""
    return str(when.cycle) if when.cycle is not None else when.end.isoformat()


def _point_to(site: Path, version: str) -> None:
    """Make ``version`` the bundle the site serves, in one step (a rename)."""
    temporary = site / f".{POINTER}-{os.getpid()}"
    temporary.write_text(version + "\n", encoding="utf-8")
    os.replace(temporary, site / POINTER)


def current(site: Path) -> Path | None:
    """The folder of the bundle the site serves; None before anything is published."""
    try:
        version = (site / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = site / BUNDLES / version
    return folder if folder.is_dir() else None


def _forces() -> list[dict[str, Any]]:
    return [
        {"code": f.code, "name": f.name, "slug": f.slug, "region": reference.region_of(f.code)}
        for f in reference.territorial_forces()
    ]


def _row(record: Any) -> dict[str, Any]:
    row: dict[str, Any] = record.as_row()
    for key, value in row.items():
        if isinstance(value, date):
            row[key] = value.isoformat()
    return row


def _grades(cycle: int, found: dict[str, Any]) -> dict[str, Any]:
    from peelkit.judgments import NOT_RECORDED, question_set

    questions = question_set(cycle)
    out: dict[str, Any] = {
        "cycle": cycle,
        "previous_cycle": questions.previous_cycle,
        "questions": [
            {"number": q.number, "short": q.short, "text": q.text, "graded": q.graded}
            for q in questions.question
        ],
        "forces": {},
    }
    for force in reference.territorial_forces():
        j = found.get(force.code)
        if j is None:
            out["forces"][force.code] = {
                "overall": NOT_RECORDED,
                "previous_overall": None,
                "questions": {str(q.number): NOT_RECORDED for q in questions.question},
                "previous": {},
                "source": None,
                "published": None,
            }
            continue
        judged = {q.number: q for q in j.questions}
        out["forces"][force.code] = {
            "overall": j.overall.grade,
            "previous_overall": j.overall.previous_grade,
            "questions": {
                str(q.number): judged[q.number].grade if q.number in judged else NOT_RECORDED
                for q in questions.question
            },
            "previous": {str(n): q.previous_grade for n, q in judged.items() if q.previous_grade},
            "source": j.source,
            "published": j.published,
        }
    return out


def _write_lineage(
    con: Any, explaining: Any, records: list[Any], when: PeriodEnd, work: Path
) -> None:
    """``peelkit explain`` of every force × indicator (its latest period; every row of a
    broken-down one), as text, and each indicator's SQL for every force: what the "how this
    figure was made" page shows."""
    from peelkit.indicators.catalogue import catalogue

    ledger = explaining.Ledger(con)
    by_indicator: dict[str, list[Any]] = {}
    for r in records:
        by_indicator.setdefault(r.indicator_id, []).append(r)
    sql = work / "sql" / period_key(when)
    sql.mkdir(parents=True)
    for indicator, mine in by_indicator.items():
        latest = max(str(r.window_end or "") for r in mine)
        record = next(r for r in mine if str(r.window_end or "") == latest)
        lines = explaining.sql_lines(con, catalogue().get(indicator), record, when, None)
        (sql / f"{indicator}.sql").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for force in reference.territorial_forces():
        folder = work / "lineage" / period_key(when) / force.code
        folder.mkdir(parents=True)
        for indicator, mine in by_indicator.items():
            rows = sorted({r.breakdown for r in mine if r.breakdown is not None})
            for row in rows or [None]:
                text = explaining.explain(
                    con, mine, force.code, indicator, when, None, row, ledger=ledger
                ).text
                name = indicator if row is None else f"{indicator}--{_slug(row)}"
                (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _reports(
    warehouse: Path,
    site: Path,
    work: Path,
    when: PeriodEnd,
    judgments_folder: Path | None,
    pdf: bool,
    on_wait: Waiting | None,
    only: list[str] | None = None,
    start_method: str | None = None,
) -> int:
    """Every force's report (or ``only`` those forces'), rendered into the report cache
    (unchanged ones are not made again) and linked into the bundle."""
    cache = site / "report-cache" / period_key(when)
    forces = [f.code for f in reference.territorial_forces() if only is None or f.code in only]
    rendered = service.reports(
        warehouse,
        forces,
        cache,
        when,
        judgments_folder=judgments_folder,
        pdf=pdf,
        allow_gaps=True,
        on_wait=on_wait,
        start_method=start_method,
    )
    for r in rendered:
        _link_report(r.files.html.parent, work / "reports" / period_key(when) / r.force)
    return len(rendered)


def _link_report(source: Path, target: Path) -> None:
    """A rendered report's files, linked (copied where links cannot be made) into the bundle."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            try:
                os.link(path, target / path.name)
            except OSError:
                shutil.copy2(path, target / path.name)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=1, default=_iso)
    path.write_text(text + "\n", encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rows_csv(rows), encoding="utf-8")


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """Record rows as CSV, lists (load ids, forces) joined with ';': the download of a bundle
    and of the API alike."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
            )
    return out.getvalue()


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
