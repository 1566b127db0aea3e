"""Personal data: applicants' ID numbers, phones and e-mails reach the warehouse only as
keyed HMAC pseudonyms; names, addresses, staff names and free text never reach core or
the marts (nor the run's logs); a missing key stops the run; the raw landing zone is
private to its owner."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import logging
import stat
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers.bundle import dossier, read_table, run_pipeline, write_bundle
from helpers.warehouses import ENGINES, make_warehouse

from warehouse.engine import make_engine

KEY = "test-key-for-pseudonyms"  # tests/conftest.py sets MOTCUA_PSEUDONYM_KEY to this

APPLICANT = "Nguyễn Thị Hồng Nhung"
APPLICANT_NFD = unicodedata.normalize("NFD", "Lê Văn Đức")
ID_NUMBER = "079190001234"
ID_NUMBER_2 = "0791 9000 5678"
PHONE = "0903 123 456"
PHONE_INTL = "+84 903 123 457"
EMAIL = "Nhung.Nguyen@Example.vn"
EMAIL_2 = "  duc.le@example.vn "
ADDRESS = "12 Đường Lê Lợi, Phường 1, TP Vũng Tàu"
ADDRESS_2 = "45 Hẻm 3 Trương Công Định, Phường 3"
STAFF = "Trần Văn Bảo"
STAFF_2 = "Phạm Thu Hà"
NOTE = "Đã gọi điện cho bà Nhung theo số 0903123456"

PERSONAL = dict(LoaiDoiTuong=1, ChuHoSo=APPLICANT, SoGiayToChuHoSo=ID_NUMBER, SoDienThoai=PHONE, Email=EMAIL,
                DiaChi=ADDRESS)
SNAPSHOTS = [
    dossier("P1", 9, "20190308100000", intake="20190304090000", due="20190311170000", resolved="20190308100000",
            history=[(2, "20190304090000"), (4, "20190305090000"), (9, "20190308100000")],
            history_fields=[{"NguoiXuLy": STAFF, "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": NOTE},
                            {"NguoiXuLy": STAFF_2, "PhongBanXuLy": "Phòng Quản lý chuyên ngành"},
                            {"NguoiXuLy": STAFF, "NoiDungXuLy": f"Trả kết quả cho {APPLICANT}"}],
            **PERSONAL),
    dossier("P2", 4, "20190320100000", channel=2, intake="20190318090000", due="20190325170000",
            history=[(2, "20190318090000")], history_fields={"NguoiXuLy": STAFF_2},
            LoaiDoiTuong=1, ChuHoSo=APPLICANT_NFD, SoGiayToChuHoSo=ID_NUMBER_2, SoDienThoai=PHONE_INTL,
            Email=EMAIL_2, DiaChi=ADDRESS_2),
    # the same applicant again, her ID typed with spaces and her e-mail in capitals
    dossier("P3", 9, "20190410100000", intake="20190401090000", due="20190408170000", resolved="20190405100000",
            **{**PERSONAL, "SoGiayToChuHoSo": "079 190 001 234", "Email": EMAIL.upper()}),
    # quarantined (status outside the table): its raw text, personal data included, stays in audit.quarantine only
    dossier("P4", 99, "20190501100000", intake="20190501090000", **PERSONAL),
]

# every form a value could take on its way through: as given, NFC/NFD, digits only, lower case
NEEDLES = [APPLICANT, APPLICANT_NFD, ID_NUMBER, ID_NUMBER_2, "079190005678", PHONE, "0903123456", PHONE_INTL,
           "84903123457", "0903123457", EMAIL, EMAIL_2.strip(), ADDRESS, ADDRESS_2, STAFF, STAFF_2, NOTE,
           "Trương Công Định", "Lê Lợi"]


def _forms(text: str) -> set[str]:
    return {unicodedata.normalize(f, text).casefold() for f in ("NFC", "NFD")}


NEEDLE_FORMS = set().union(*(_forms(n) for n in NEEDLES))


def _found(text: object) -> list[str]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return []
    hay = _forms(str(text))
    return [n for n in NEEDLE_FORMS if any(n in h for h in hay)]


def _text_columns(url: str) -> list[tuple[str, str, str]]:
    """(schema, relation, column) of every text column of every table and view."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')").fetchall()
    finally:
        engine.dispose()
    return [(s, t, c) for s, t, c, typ in rows
            if typ.upper().startswith(("CHARACTER", "VARCHAR", "TEXT", "STRING"))]


def _hmac(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class _Capture(logging.Handler):
    """Every log record of the run, formatted, whatever its logger or level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}")


@pytest.fixture(scope="module", params=ENGINES)
def pipeline_run(request, tmp_path_factory):
    """The PII bundle run once per engine, its logs and output captured."""
    tmp = tmp_path_factory.mktemp("pii")
    bundle = write_bundle(tmp / "bundle", SNAPSHOTS, files=2)
    capture = _Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    out, err = io.StringIO(), io.StringIO()
    try:
        with make_warehouse(request.param, tmp) as url:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                # the expectation suites run on DuckDB (their messages are scanned too); the
                # PostgreSQL case is about what reaches its tables, and skips them for speed
                result = run_pipeline(bundle, url, tmp / "var", validate=request.param == "duckdb",
                                      quarantine_threshold=1.0)
            yield {"url": url, "result": result, "data_dir": tmp / "var",
                   "logs": "\n".join(capture.lines) + out.getvalue() + err.getvalue()}
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def test_no_personal_data_in_clear_in_the_warehouse_or_the_logs(pipeline_run):
    url = pipeline_run["url"]
    assert pipeline_run["result"]["staged"]["records_quarantined"] == 1
    columns = _text_columns(url)
    assert ("core", "fct_dossier", "applicant_pseudonym") in columns
    assert ("mart", "dossier_resolution", "procedure_name") in columns  # views are scanned too
    hits = []
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for s, t, c in columns:
                if (s, t) == ("audit", "quarantine"):
                    continue  # keeps raw records by design (never readable by BI)
                for (value,) in conn.execute(sa.text(f'SELECT DISTINCT "{c}" FROM "{s}"."{t}"')):
                    hits += [(f"{s}.{t}.{c}", n) for n in _found(value)]
            # positive control: the scanner does find them where they are kept on purpose
            raw = [r[0] for r in conn.execute(sa.text("SELECT record FROM audit.quarantine"))]
    finally:
        engine.dispose()
    assert hits == []
    assert _found(raw[0]), "the scan would not have found anything: its needles are wrong"
    assert _found(pipeline_run["logs"]) == []


def test_no_personal_data_in_clear_in_the_run_folder_reports(pipeline_run):
    """What a run leaves for people to read (validation results and data docs, mart
    files) is clean too; the staged records and the quarantine parts, which hold the
    source's text on purpose, are private files (see test_the_raw_landing_zone_is_private)."""
    runs = pipeline_run["data_dir"] / "runs"
    texts = [p for p in runs.rglob("*") if p.is_file() and p.suffix in {".html", ".json", ".txt", ".log", ".csv", ".md"}]
    hits = [(str(p.relative_to(runs)), n) for p in texts for n in _found(p.read_text("utf-8", errors="replace"))]
    marts = list(runs.rglob("marts/*.parquet"))
    assert marts
    for p in marts:
        df = pd.read_parquet(p)
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith(("string", "str")):
                hits += [(f"{p.name}:{c}", n) for v in df[c].dropna().unique() for n in _found(v)]
    assert hits == []


def test_identifiers_are_keyed_pseudonyms(pipeline_run):
    fct = read_table(pipeline_run["url"], "core.fct_dossier").set_index("dossier_code")
    assert fct.loc["P1", "applicant_pseudonym"] == _hmac(ID_NUMBER)
    assert fct.loc["P1", "phone_pseudonym"] == _hmac("0903123456")
    assert fct.loc["P1", "email_pseudonym"] == _hmac(EMAIL.lower())
    assert fct.loc["P2", "applicant_pseudonym"] == _hmac("079190005678")
    assert fct.loc["P2", "phone_pseudonym"] == _hmac("0903123457")  # +84 -> 0
    assert fct.loc["P2", "email_pseudonym"] == _hmac("duc.le@example.vn")
    # the same person is the same pseudonym whatever the spelling: dossiers can be linked, not named
    assert fct.loc["P3", "applicant_pseudonym"] == fct.loc["P1", "applicant_pseudonym"]
    assert fct.loc["P3", "email_pseudonym"] == fct.loc["P1", "email_pseudonym"]
    # unkeyed hashes (guessable from a list of ID numbers) are not what is stored
    assert fct.loc["P1", "applicant_pseudonym"] != hashlib.sha256(ID_NUMBER.encode()).hexdigest()
    events = read_table(pipeline_run["url"], "core.fct_dossier_event")
    assert set(events.columns) == {"dossier_code", "seq", "status_code", "event_at", "agency_code", "office"}


def test_the_raw_landing_zone_is_private(pipeline_run):
    raw = pipeline_run["data_dir"] / "raw"
    files = [p for p in raw.rglob("*") if p.is_file()]
    partitions = [p for p in raw.rglob("extracted=*") if p.is_dir()]
    assert files and partitions
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in partitions} == {0o700}
    folders = [raw, *[p for p in raw.rglob("*") if p.is_dir()]]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o700}
    # the run folders hold the staged records (identifiers before pseudonymisation): private too
    records = list((pipeline_run["data_dir"] / "runs").rglob("records/*.parquet"))
    assert records and {stat.S_IMODE(p.stat().st_mode) for p in records} == {0o600}
    run_dirs = [p for p in (pipeline_run["data_dir"] / "runs").iterdir()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in run_dirs} == {0o700}


def test_a_missing_pseudonym_key_stops_the_run_before_anything_is_loaded(tmp_path, monkeypatch):
    from prefect.blocks.system import Secret

    from motcua.settings import SettingsError, pseudonym_key

    def no_block(*args: object, **kwargs: object) -> None:
        raise ValueError("no Secret block")

    monkeypatch.setattr(Secret, "load", classmethod(lambda cls, *a, **k: no_block()))
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", "")
    with pytest.raises(SettingsError, match="MOTCUA_PSEUDONYM_KEY"):
        pseudonym_key()  # empty is missing, never an empty key
    monkeypatch.delenv("MOTCUA_PSEUDONYM_KEY")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    bundle = write_bundle(tmp_path / "bundle", SNAPSHOTS[:2])
    with pytest.raises(SettingsError, match="MOTCUA_PSEUDONYM_KEY"):
        run_pipeline(bundle, url, tmp_path / "var", validate=False)
    if Path(tmp_path / "w.duckdb").exists():
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert not sa.inspect(conn).has_table("fct_dossier", schema="core") or \
                    conn.exec_driver_sql("SELECT count(*) FROM core.fct_dossier").scalar() == 0
        finally:
            engine.dispose()


def test_no_personal_data_in_the_bi_snapshot_or_the_explain_rows(pipeline_run, tmp_path):
    """What BI tools read (the snapshot: its DuckDB file and Parquet files) and what
    `motcua explain` shows (the dossiers behind every column of 2019) hold no personal
    value in clear; the snapshot holds no audit table (audit.quarantine keeps raw text)."""
    import duckdb

    from motcua.explain import explain
    from transforms.rpt_explain import WHY
    from warehouse.bi import publish_bi_snapshot

    snap = publish_bi_snapshot(pipeline_run["url"], tmp_path / "bi")
    con = duckdb.connect(str(snap.database), read_only=True)
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        assert tables and not [t for t in tables if t[0] == "audit" or "quarantine" in t[1]]
        hits = [(f"{s}.{t}", n) for s, t in tables
                for row in con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall() for v in row for n in _found(v)]
    finally:
        con.close()
    for p in Path(snap.database).parent.rglob("*.parquet"):
        df = pd.read_parquet(p)
        hits += [(p.name, n) for c in df.columns for v in df[c].dropna().unique() for n in _found(v)]
    rows = pd.concat([explain(pipeline_run["url"], 2019, column) for column in WHY], ignore_index=True)
    assert len(rows) > 0
    hits += [("explain", n) for c in rows.columns for v in rows[c].dropna().unique() for n in _found(v)]
    assert hits == []
