"""One number everywhere: for every force and every indicator of the Force in numbers, the
force's page, the API, the CSV download and the PDF report show the same value — and the page,
the API and the CSV the same verdict and rank. All four come from one publication of the demo
warehouse, with every force's report and its PDF (about 1.5 minutes on 2 cores)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peelkit import display, reference
from peelkit.publish import current, publish
from peelkit.site.app import create_app

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def published(demo_run, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site-with-reports")
    done = publish(demo_run.warehouse, site, reports=True, pdf=True)
    assert done.reports == 43
    return site


@pytest.fixture(scope="module")
def client(published) -> TestClient:
    return TestClient(create_app(published))


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def in_order(wanted: list[str], text: str) -> list[str]:
    """The values of ``wanted`` not found, in that order, among the numbers of ``text``."""
    tokens = NUMBER.findall(text)
    missing, at = [], 0
    for value in wanted:
        try:
            at = tokens.index(value, at) + 1
        except ValueError:
            missing.append(value)
    return missing


def test_page_api_csv_and_pdf_agree_for_every_force_and_indicator(client, published):
    catalogue = {i["id"]: i for i in client.get("/api/v1/catalogue").json()["indicators"]}
    bundle = current(published)
    compared = 0
    for force in reference.territorial_forces():
        api = client.get("/api/v1/records", params={"force": force.code, "per_page": 1000})
        rows = api.json()["records"]
        download = client.get(
            "/api/v1/records", params={"force": force.code, "per_page": 1000, "format": "csv"}
        )
        csv_rows = list(csv.DictReader(io.StringIO(download.text)))
        assert len(csv_rows) == len(rows)
        page = client.get(f"/forces/{force.slug}").text
        shown = {}
        for m in re.finditer(
            r'data-indicator="([^"]+)" data-row-key="">.*?data-value="force">([^<]*)</td>.*?'
            r'data-value="ew">([^<]*)</td>\s*<td class="govuk-table__cell">([^<]*)</td>\s*'
            r'<td class="govuk-table__cell">([^<]*)</td>',
            page,
            re.S,
        ):
            shown[m.group(1)] = tuple(unescape(g).strip() for g in m.groups()[1:])
        report = bundle / "reports" / "2016" / force.code
        numbers = list(
            csv.DictReader(
                io.StringIO(next(report.glob("*-numbers.csv")).read_text(encoding="utf-8"))
            )
        )
        in_numbers = [n for n in numbers if n["where"] == "Force in numbers"]
        wanted_in_pdf = []
        for n in in_numbers:
            record = next(
                r
                for r, c in zip(rows, csv_rows, strict=True)
                if r["indicator_id"] == n["indicator"]
                and r["breakdown_key"] is None
                and r["window_end"]
                == max(x["window_end"] for x in rows if x["indicator_id"] == n["indicator"])
            )
            c = csv_rows[rows.index(record)]
            decimals = catalogue[record["indicator_id"]]["decimals"]
            value = record["value"] if n["who"] == "force" else record["england_and_wales"]
            expected = display.figure(value, decimals)
            # the report's CSV of its numbers, the CSV download and the API
            assert n["shown"] == expected, (force.name, n)
            column = "value" if n["who"] == "force" else "england_and_wales"
            assert (float(c[column]) if c[column] else None) == value
            assert (c["verdict"], c["rank"] or None) == (
                record["verdict"],
                str(record["rank"]) if record["rank"] is not None else None,
            )
            # the force's page: value, England and Wales, verdict and rank
            page_force, page_ew, page_verdict, page_rank = shown[record["indicator_id"]]
            assert (page_force if n["who"] == "force" else page_ew) == expected
            if record["value"] is not None:
                assert page_verdict == record["verdict"]
            if record["rank"] is not None:
                assert page_rank.startswith(f"{record['rank']} of {record['ranked']}")
                assert record["rank_verdict"] in page_rank
            if value is not None:
                wanted_in_pdf.append(expected)
            compared += 1
        # the PDF: every value of its Force in numbers table, in order, after its heading
        text = pdf_text(next(report.glob("*.pdf")))
        section = text[text.index("Force in numbers") :]
        assert in_order(wanted_in_pdf, section) == [], force.name
    assert compared >= 43 * 20
