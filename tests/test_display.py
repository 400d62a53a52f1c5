"""One way to write a figure: half up at the catalogue's precision, one mark for no value."""

from __future__ import annotations

import re
from pathlib import Path

import peelkit
from peelkit import display


def test_figures_round_half_up_with_thousands_separators():
    assert display.figure(2.25, 1) == "2.3"  # Python's round gives 2.2
    assert display.figure(1234567.125, 2) == "1,234,567.13"
    assert display.figure(-6.25, 1) == "-6.3"
    assert display.figure(-6.25, 1, magnitude=True) == "6.3"
    assert display.figure(0.0, 0) == "0"


def test_a_missing_value_is_one_mark_never_zero():
    assert display.figure(None, 1) == display.NO_VALUE == "—"
    assert display.figure_with_unit(None, 1, "percent") == "—"
    assert display.interval(None, 2.0, 1) == ""


def test_units_and_intervals():
    assert display.figure_with_unit(13.75, 1, "percent") == "13.8%"
    assert display.figure_with_unit(13.75, 1, "per 1,000 population") == "13.8"
    assert display.interval(7.649, 8.25, 1) == "7.6 – 8.3"
    assert display.count(18540.0) == "18,540"


def test_no_module_but_display_rounds_a_figure_for_showing():
    # the statistics round for ranking (stats.py); everything shown goes through display
    source = Path(peelkit.__file__).parent
    rounding = re.compile(r"round_half_up\(|:,\.\d+f\}|:\.\d+f\}\s*(%|percent)")
    offenders = [
        f"{path.relative_to(source)}:{n}"
        for path in sorted(source.rglob("*.py"))
        if path.name not in ("display.py", "stats.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if rounding.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


#: The presentation layer, where numbers become text: display.py and the modules that render
#: through it. The demo's writers are exempt: they write source files in the official formats
#: (coordinates to six places, counts), which is data, not presentation.
PRESENTATION = ("display.py", "present.py", "cli.py", "report/", "site/")
WRITERS_OF_SOURCE_FILES = ("demo/",)


def test_no_module_outside_the_presentation_layer_formats_a_number():
    source = Path(peelkit.__file__).parent
    # a format spec that writes a number: {x:,} {x:.1f} {x:,.2f} {x:.0%} {x:02d} {x:e}
    number_spec = re.compile(r"\{[^{}:]+:[<>^=+ 0-9]*[,_]?(\.\d+)?[dfFeEgG%]?\}")
    offenders = []
    for path in sorted(source.rglob("*.py")):
        name = path.relative_to(source).as_posix()
        if name.startswith(PRESENTATION + WRITERS_OF_SOURCE_FILES) or name in PRESENTATION:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in number_spec.finditer(line):
                spec = m.group(0).split(":", 1)[1]
                # two-digit years are part of names, not figures: LAD16CD, 2016/17
                if spec == "02d}" and "% 100" in m.group(0):
                    continue
                if spec.rstrip("}") and not spec.startswith(("<", ">", "^")):
                    offenders.append(f"{name}:{n}: {m.group(0)}")
    assert offenders == [], "format numbers with peelkit.display: " + "; ".join(offenders)
