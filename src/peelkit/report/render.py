"""Render a report's document tree: HTML (Jinja2), one SVG per chart, a CSV of every number
shown, and the PDF of the same HTML (WeasyPrint)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from peelkit import __version__
from peelkit.report.build import glossary
from peelkit.report.charts import svg
from peelkit.report.document import Figure, Report, numbers_in


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path | None
    svgs: tuple[Path, ...]
    numbers: Path
    pages: int | None = None


@cache
def _fonts() -> Any:
    """One font configuration per process: the fonts are found and loaded once."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("peelkit.report", "templates")
    return jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=False,
        lstrip_blocks=False,
        undefined=jinja2.StrictUndefined,
    )


def html(report: Report, printed: bool = False) -> str:
    """The report's HTML page. ``printed``: the page WeasyPrint paginates, without what the
    stylesheet hides in print (each chart's data table), so that WeasyPrint does not parse and
    style it for nothing: the PDF is the same."""
    css = resources.files("peelkit.report").joinpath("templates", "report.css").read_text("utf-8")
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        css=css,
        version=__version__,
        grade_words=glossary()["grade"],
        printed=printed,
    )


def numbers_csv(report: Report) -> str:
    """Every number the report shows, in document order, with the record it came from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["where", "indicator", "row", "who", "force", "value", "shown", "label"])
    for section in report.walk():
        for block in section.blocks:
            where = f"Figure {block.number}" if isinstance(block, Figure) else section.title
            for n in numbers_in(block):
                writer.writerow(
                    [
                        where,
                        n.indicator,
                        n.row or "",
                        n.who,
                        n.force,
                        "" if n.value is None else repr(n.value),
                        n.text,
                        report.label or "",
                    ]
                )
    return out.getvalue()


def write_report(
    report: Report, folder: Path, pdf: bool = True, stem: str | None = None
) -> ReportFiles:
    """Write the report's files into ``folder`` (created if needed). Each file is new (written
    under a temporary name and renamed over the old one), never an old file rewritten: a
    published bundle links the files of the report cache (peelkit.publish), and must keep the
    report it was published with when the cache's report is made again for a later release."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or report.stem or f"peel-effectiveness-{report.cycle}"
    svgs = []
    for figure in report.figures():
        if figure.chart is not None:
            path = folder / f"figure-{figure.number}.svg"
            _write_text(path, svg(figure.chart, report.force_name))
            svgs.append(path)
    page = folder / f"{stem}.html"
    _write_text(page, html(report))
    numbers = folder / f"{stem}-numbers.csv"
    _write_text(numbers, numbers_csv(report))
    pdf_path, pages = None, None
    if pdf:
        from weasyprint import HTML

        pdf_path = folder / f"{stem}.pdf"
        # base_url is the page's own path, so that the figures resolve beside it
        document = HTML(
            string=html(report, printed=True), base_url=str(page), media_type="print"
        ).render(font_config=_fonts())
        _write_new(pdf_path, lambda temporary: document.write_pdf(str(temporary)))
        pages = len(document.pages)
    return ReportFiles(page, pdf_path, tuple(svgs), numbers, pages)


def _write_new(path: Path, write: Callable[[Path], object]) -> None:
    """Make ``path`` a new file written by ``write`` (given a temporary name beside it, which
    starts with a dot: publish links no such file), replacing any old one in one rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    _write_new(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
