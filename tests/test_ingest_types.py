"""The named ENUM types an ingest reads force names with live only inside its transaction."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from peelkit.demo.sample import STREET_HEADER
from peelkit.errors import UnknownForce
from peelkit.ingest import ingest

CITY = Path("police-uk-city-of-london")


def peelkit_types(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT type_name FROM duckdb_types() WHERE type_name LIKE '__peelkit%'"
    ).fetchall()
    return [name for (name,) in rows]


def test_ingests_leave_no_types_behind_and_map_force_names_to_codes(warehouse, real_data, tmp_path):
    first = ingest(warehouse, [real_data / CITY / "2016-01"])
    assert not first.rejects and peelkit_types(warehouse) == []
    # A second ingest creates the same type names again, in its own transaction.
    second = ingest(warehouse, [real_data / CITY / "2016-02"])
    assert not second.rejects and peelkit_types(warehouse) == []
    codes = warehouse.execute(
        "SELECT DISTINCT reported_by_code, force_code FROM police_uk_street"
    ).fetchall()
    assert codes == [("E23000034", "E23000034")]  # City of London Police

    bad = tmp_path / "street.csv"
    row = (
        ",2016-01,Kentt Police,Kent Police,-0.1,51.5,On or near X,E01000914,Camden 028B,Burglary,,"
    )
    bad.write_text(f"{STREET_HEADER}\n{row}\n", encoding="utf-8")
    with pytest.raises(UnknownForce):
        ingest(warehouse, [bad])
    assert peelkit_types(warehouse) == []
