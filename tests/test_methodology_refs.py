"""Every citation of docs/methodology.md in the repository names one of its sections.

Code, data files and docs cite the method by section number. A citation is a document name
followed, in the same sentence or parenthesis, by one or more section numbers after the
section sign: one section ("2.4"), a list ("2.4, 3.2" or "1.7 / 1.8") or a range ("8.8–8.10",
every section of which must exist). Inside docs/methodology.md a bare section number cites the
page itself. A cited document must be one of docs/*.md, and the document the project once
cited from outside the repository must not be named at all.

The section sign is written as an escape in this file, so that its own examples are not read
as citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from peelkit.indicators.catalogue import catalogue
from tests.conftest import REPO

DOCS = REPO / "docs"
METHODOLOGY = DOCS / "methodology.md"
SIGN = "\u00a7"
OLD_NAME = "domain" + ".md"  # the reference outside the repository that citations used to name
SCANNED = (REPO / "src", REPO / "docs", REPO / "tests", REPO / "README.md")
SUFFIXES = {".py", ".toml", ".md", ".html", ".j2", ".jinja", ".jinja2", ".css", ".sql", ".csv"}

HEADING = re.compile(r"^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]", re.MULTILINE)
# A document name (any path), a section reference, or the end of a citation's reach: a closing
# bracket, a sentence end (a full stop before white space) or a blank line.
TOKEN = re.compile(
    r"(?P<doc>(?<![\w./-])[\w./-]*?(?P<name>[\w-]+\.md))\b"
    r"|\u00a7\s*(?P<first>\d+(?:\.\d+)*)(?:\s*[\u2013-]\s*(?P<last>\d+(?:\.\d+)*))?"
    r"|(?P<stop>[)\]]|\.(?=\s)|\n[ \t#/*-]*\n)"
)


@dataclass(frozen=True)
class Citation:
    line: int
    document: str | None  # the file name cited ("methodology.md"), None for a bare §N
    section: str  # one section number; a range gives one Citation per section
    text: str  # as written, for messages


def expand(first: str, last: str | None) -> list[str]:
    """The sections of a range: 8.8–8.10 → 8.8, 8.9, 8.10 (also 8.8–10). A range whose ends
    differ above the last number gives its two ends."""
    if last is None:
        return [first]
    start, end = first.split("."), last.split(".")
    end = start[: len(start) - len(end)] + end
    if start[:-1] != end[:-1] or int(end[-1]) < int(start[-1]):
        return [first, ".".join(end)]
    stem = ".".join(start[:-1])
    return [f"{stem}.{n}" if stem else str(n) for n in range(int(start[-1]), int(end[-1]) + 1)]


def citations(text: str) -> list[Citation]:
    """Every section reference in ``text``, with the document it belongs to."""
    found: list[Citation] = []
    document: str | None = None
    for match in TOKEN.finditer(text):
        if match["stop"]:
            document = None
        elif match["name"]:
            document = match["name"]
        else:
            line = text.count("\n", 0, match.start()) + 1
            for section in expand(match["first"], match["last"]):
                found.append(Citation(line, document, section, match[0]))
    return found


def sections(path: Path) -> set[str]:
    """The numbers of a Markdown file's numbered headings ("## 2. …" → "2", "### 2.4 …")."""
    return set(HEADING.findall(path.read_text("utf-8")))


def problems(path: Path, text: str) -> list[str]:
    """What is wrong with the citations of one file, each as 'file:line: …'."""
    where = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    said = []
    for number, line in enumerate(text.splitlines(), 1):
        if OLD_NAME in line:
            said.append(
                f"{where}:{number}: cites {OLD_NAME}, which is not in the repository; "
                "cite docs/methodology.md instead"
            )
    for c in citations(text):
        document = c.document or (path.name if path == METHODOLOGY else None)
        if document is None:
            said.append(f"{where}:{c.line}: {c.text!r} names no document; write methodology.md")
            continue
        if document == OLD_NAME:
            continue  # said above
        cited = DOCS / document
        if not cited.is_file():
            said.append(f"{where}:{c.line}: cites {document}, which is not a file of docs/")
        elif c.section not in sections(cited):
            said.append(
                f"{where}:{c.line}: {document} {SIGN}{c.section} is not a section of "
                f"docs/{document} (no heading numbered {c.section})"
            )
    return said


def scanned_files() -> list[Path]:
    files = []
    for root in SCANNED:
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts:
                files.append(path)
    return files


def test_every_cited_section_exists_and_nothing_cites_the_outside_reference():
    found = [p for path in scanned_files() for p in problems(path, path.read_text("utf-8"))]
    assert not found, "\n".join(found)


def test_the_scan_sees_the_citations_of_code_data_and_docs():
    cited_from = {
        path.relative_to(REPO).parts[0]
        for path in scanned_files()
        for c in citations(path.read_text("utf-8"))
        if c.document == "methodology.md"
    }
    assert cited_from >= {"src", "docs", "tests"}


def test_a_missing_section_is_named_with_its_file_and_line(tmp_path):
    fake = tmp_path / "fake.py"
    text = (
        "# the rule (methodology" + f".md {SIGN}2.10)\n"
        "#\n"
        "# see docs/methodology" + f".md {SIGN}99.1, {SIGN}1.2\n"
    )
    said = problems(fake, text)
    assert said == [
        f"{fake}:3: methodology.md {SIGN}99.1 is not a section of docs/methodology.md "
        "(no heading numbered 99.1)"
    ]


def test_ranges_lists_and_the_reach_of_a_document_name():
    text = (
        f"(methodology.md {SIGN}8.8\u20138.10): one name; methodology.md {SIGN}1.7 / {SIGN}1.8 "
        f"and the whole of Figure 4 in {SIGN}4.3. Here {SIGN}2 is bare (indicators.md {SIGN}5)"
    )
    assert [(c.document, c.section) for c in citations(text)] == [
        ("methodology.md", "8.8"),
        ("methodology.md", "8.9"),
        ("methodology.md", "8.10"),
        ("methodology.md", "1.7"),
        ("methodology.md", "1.8"),
        ("methodology.md", "4.3"),
        (None, "2"),
        ("indicators.md", "5"),
    ]
    assert expand("8.8", "10") == ["8.8", "8.9", "8.10"]
    assert expand("2.9", "3.1") == ["2.9", "3.1"]


def test_a_bare_section_outside_the_methodology_and_the_old_reference_fail(tmp_path):
    fake = tmp_path / "fake.toml"
    text = f"note = 'as {OLD_NAME} {SIGN}7.4 says'\n\n# see {SIGN}3.2\n\n# and nowhere.md {SIGN}1\n"
    said = problems(fake, text)
    assert said[0].startswith(f"{fake}:1: cites {OLD_NAME}")
    assert said[1].startswith(f"{fake}:3: '{SIGN}3.2' names no document")
    assert said[2] == f"{fake}:5: cites nowhere.md, which is not a file of docs/"
    assert len(said) == 3


def test_section_numbers_are_unique():
    numbers = HEADING.findall(METHODOLOGY.read_text("utf-8"))
    assert len(numbers) == len(set(numbers)), sorted(n for n in numbers if numbers.count(n) > 1)


def test_the_known_faults_keep_their_numbers():
    """The demo's notes cite the faults of the 2016 report as methodology.md §8.1 to §8.20."""
    assert {f"8.{n}" for n in range(1, 21)} <= sections(METHODOLOGY)


@pytest.mark.parametrize("indicator", [i.id for i in catalogue().indicator])
def test_every_indicator_has_its_entry(indicator):
    text = METHODOLOGY.read_text("utf-8")
    assert re.search(rf"^#### {re.escape(indicator)} ", text, re.MULTILINE), indicator


def test_the_readme_lists_the_methodology():
    assert "docs/methodology.md" in (REPO / "README.md").read_text("utf-8")
