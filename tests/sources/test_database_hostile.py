"""Trust boundary, database source (``motcua.sources.database``): a row over the record
limit, read from the real MariaDB on 127.0.0.1:3306 through the pipeline's stages,
reaches the quarantine with its reason and the other rows load."""

from __future__ import annotations

from helpers.bundle import assert_balanced, dossier, run_and_read, write_bundle
from helpers.hostile_files import GOOD


def test_a_database_row_over_the_record_limit_is_quarantined(tmp_path, mariadb_source):
    from motcua.dev.database_loader import load_bundle_into_database

    big = dossier("DBIG", 4, "20190308110000", intake="20190305090000", due="20190312170000",
                  TenTTHC="Thủ tục " + "ư" * 20_000)
    load_bundle_into_database(write_bundle(tmp_path / "b", [GOOD[0], big, GOOD[1]]), mariadb_source, replace=True)
    out = run_and_read(mariadb_source, tmp_path, max_record_bytes=16_384)
    assert_balanced(out["staged"], 3)
    q = out["quarantine"]
    assert q["locator"].tolist() == ["ho_so:DBIG"] and q["reason"].iloc[0].startswith("record_too_large: ")
    assert sorted(out["fct"]["dossier_code"]) == ["F1", "F2"]
