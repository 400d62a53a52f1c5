"""The synthetic sample: same seed, same bytes; official formats that the real readers accept."""

from __future__ import annotations

import hashlib

from peelkit.demo import sample as synthetic
from peelkit.ingest import ingest


def digest_tree(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_writes_byte_identical_files(tmp_path):
    spec = synthetic.SampleSpec(street_rows=5_000, months=2)
    synthetic.write_sample(tmp_path / "one", spec)
    synthetic.write_sample(tmp_path / "two", spec)
    assert digest_tree(tmp_path / "one") == digest_tree(tmp_path / "two")


def test_sample_loads_without_rejects_and_shows_its_planted_gaps(tmp_path, warehouse):
    synthetic.write_sample(tmp_path / "sample", synthetic.SampleSpec(street_rows=20_000, months=3))
    report = ingest(warehouse, [tmp_path / "sample"])
    assert report.rejects == []
    assert {f.kind for f in report.files} == {
        "police_uk_street",
        "police_uk_outcomes",
        "police_uk_stop_search",
        "recorded_crime",
        "crime_outcomes",
        "population",
        "data_returns",
    }
    gaps = warehouse.execute(
        "SELECT source, force_code, period, status FROM coverage WHERE status <> 'present' "
        "ORDER BY ALL"
    ).fetchall()
    assert gaps == [
        ("data_return:domestic_abuse_arrests", "E23000008", "2015-07-01/2016-06-30", "absent"),
        ("police_uk_outcomes", "E23000039", "2015-08", "absent"),
        ("police_uk_street", "E23000034", "2015-09", "partial"),
    ]


def test_sample_is_labelled_synthetic_in_its_readme_and_tidy_sources(tmp_path):
    synthetic.write_sample(tmp_path, synthetic.SampleSpec(street_rows=2_000, months=1))
    assert synthetic.LABEL in (tmp_path / "README.txt").read_text(encoding="utf-8")
    tidy = (tmp_path / "peelkit" / "population-synthetic.csv").read_text(encoding="utf-8")
    assert synthetic.LABEL in tidy


def test_no_module_imports_another_modules_private_names():
    import re
    from pathlib import Path

    import peelkit

    source = Path(peelkit.__file__).parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(source.rglob("*.py")))
    imports = re.findall(r"from peelkit[\w.]* import \(?([^)]*?)\)?\n(?=\S|\n)", text, re.S)
    private = sorted(
        {
            n.strip()
            for names in imports
            for n in names.split(",")
            if n.strip().startswith("_") and not n.strip().startswith("__")
        }
    )
    assert private == []
