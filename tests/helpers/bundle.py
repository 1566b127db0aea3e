"""Writing small export bundles by hand, and running the pipeline's stages on them."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

PROCEDURE_HEADER = ["MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaDonVi", "ThoiHanGiaiQuyet", "MucDo",
                    "DiaChiDangTai", "CongKhai", "MotCua", "LienThong", "HieuLucTu", "HieuLucDen"]
AGENCY_HEADER = ["MaDonVi", "TenDonVi", "MaDonViCha", "HieuLucTu", "HieuLucDen", "ThayTheBoi"]


def procedure(code: str, days: int = 5, name: str | None = None, field: str = "F1", agency: str = "A1",
              level: str = "3", valid_from: str = "", valid_to: str = "") -> dict:
    return {"MaTTHC": code, "TenTTHC": name or f"Thủ tục {code}", "MaLinhVuc": field,
            "TenLinhVuc": f"Lĩnh vực {field}", "MaDonVi": agency, "ThoiHanGiaiQuyet": str(days), "MucDo": level,
            "DiaChiDangTai": "https://dvc.example/" + code, "CongKhai": "1", "MotCua": "1", "LienThong": "0",
            "HieuLucTu": valid_from, "HieuLucDen": valid_to}


def agency(code: str, name: str | None = None, parent: str = "", valid_from: str = "", valid_to: str = "",
           successor: str = "") -> dict:
    return {"MaDonVi": code, "TenDonVi": name or f"Đơn vị {code}", "MaDonViCha": parent,
            "HieuLucTu": valid_from, "HieuLucDen": valid_to, "ThayTheBoi": successor}


def dossier(code: str, status: int, updated: str, procedure_code: str = "1.000001", agency_code: str = "A1",
            channel: int = 1, intake: str | None = None, due: str | None = None, resolved: str | None = None,
            history: list[tuple[int, str]] | None = None,
            history_fields: dict[str, object] | list[dict[str, object]] | None = None, **extra: object) -> dict:
    """One snapshot. ``history`` is a list of (status, time) entries; ``history_fields``
    adds fields to them (``NguoiXuLy``, ``PhongBanXuLy``, ``NoiDungXuLy`` …): a dict for
    every entry, or a list with one dict per entry. Other keyword arguments are snapshot
    fields (e.g. ``ChuHoSo=``, ``SoGiayToChuHoSo=``, ``SoDienThoai=``, ``Email=``, ``DiaChi=``)."""
    snap: dict = {"MaHoSo": code, "MaTTHC": procedure_code, "MaDonVi": agency_code, "KenhThucHien": channel,
                  "TrangThaiHoSo": status, "NgayCapNhat": updated}
    if intake is not None:
        snap["NgayTiepNhan"] = intake
    if due is not None:
        snap["NgayHenTra"] = due
    if resolved is not None:
        snap["NgayKetThucXuLy"] = resolved
    snap["QuaTrinhXuLy"] = [{"TrangThai": s, "ThoiDiemXuLy": t, "DonViXuLy": agency_code} for s, t in (history or [])]
    if history_fields is not None:
        per_entry = history_fields if isinstance(history_fields, list) else [history_fields] * len(snap["QuaTrinhXuLy"])
        for entry, more in zip(snap["QuaTrinhXuLy"], per_entry, strict=False):
            entry.update(more)
    snap.update(extra)
    return snap


def write_bundle(path: Path, snapshots: list[dict | str], procedures: list[dict] | None = None,
                 agencies: list[dict] | None = None, files: int = 1, gz: bool = False) -> Path:
    """Write a bundle; ``snapshots`` may hold raw strings (written as the line itself)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "dossiers").mkdir(exist_ok=True)
    for old in (path / "dossiers").glob("*"):
        old.unlink()
    with open(path / "procedures.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, PROCEDURE_HEADER)
        w.writeheader()
        w.writerows(procedures if procedures is not None else [procedure("1.000001")])
    with open(path / "agencies.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, AGENCY_HEADER)
        w.writeheader()
        w.writerows(agencies if agencies is not None else [agency("A1")])
    lines = [s if isinstance(s, str) else json.dumps(s, ensure_ascii=False) for s in snapshots]
    for i in range(files):
        chunk = lines[i::files]
        name = path / "dossiers" / (f"part-{i:03d}.jsonl.gz" if gz else f"part-{i:03d}.jsonl")
        data = ("\n".join(chunk) + "\n").encode("utf-8")
        name.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def run_pipeline(source: Path | str, warehouse_url: str, data_dir: Path, validate: bool = True,
                 incremental: bool = False, **settings: object) -> dict:
    """All stages in-process, in the flow's order, without Prefect (the flow is tested
    on its own): partitions planned, marts by delta when the kept state allows.
    ``validate=False`` skips the expectation suites (faster; for tests of loading)."""
    from flows.stages.extract import extract
    from flows.stages.load_core import load_core, read_watermark
    from flows.stages.marts import build_marts
    from flows.stages.publish import mark_marts_stale, plan_rebuild, publish
    from flows.stages.runs import new_run
    from flows.stages.stage import stage
    from motcua.settings import Settings

    s = Settings.from_env(warehouse_url=warehouse_url, data_dir=data_dir, **settings)
    run = new_run(s, str(source))
    since = read_watermark(s, str(source)) if incremental else None
    extracted = extract(run, s, since)
    staged = stage(run, s, extracted, validate=validate)
    mark_marts_stale(run, s, staged)
    loaded = load_core(run, s, extracted, staged)
    plan = plan_rebuild(run, s)
    built = build_marts(run, s, validate=validate, plan=plan)
    publish(run, s, built, plan)
    return {"staged": staged, "loaded": loaded, "marts": built["rows"], "run_id": run.run_id, "plan": plan,
            "method": built["method"]}


def read_table(warehouse_url: str, name: str) -> pd.DataFrame:
    from warehouse.engine import make_engine

    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(f"SELECT * FROM {name}"), conn)
    finally:
        engine.dispose()


def cp1258_bytes(text: str) -> bytes:
    """``text`` encoded as a legacy Windows-1258 export would be: letters with their
    shape marks precomposed (ơ, ư, ê, Đ …), tone marks as combining characters."""
    import unicodedata

    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def add_dossier_file(bundle: Path, name: str, lines: list[dict | str], encoding: str = "utf-8",
                     bom: bool = False, cut_last_line: int | None = None) -> Path:
    """Add one more file to ``bundle/dossiers`` (after :func:`write_bundle`): lines in
    ``encoding`` (``"cp1258"``: see :func:`cp1258_bytes`), optionally with a UTF-8 BOM,
    and optionally cut off ``cut_last_line`` characters into its last line (no newline
    after it), as a file whose copy was interrupted."""
    texts = [s if isinstance(s, str) else json.dumps(s, ensure_ascii=False) for s in lines]
    if cut_last_line is not None:
        texts[-1] = texts[-1][:cut_last_line]
    body = "\n".join(texts) + ("" if cut_last_line is not None else "\n")
    data = cp1258_bytes(body) if encoding == "cp1258" else body.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = bundle / "dossiers" / name
    path.write_bytes(data)
    return path


def run_and_read(source: Path | str, tmp_path: Path, **settings: object) -> dict:
    """:func:`run_pipeline` without the suites, every record let through the share check,
    on a fresh DuckDB warehouse; with the quarantine and the facts it left."""
    wh = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    out = run_pipeline(source, wh, tmp_path / "var", validate=False, quarantine_threshold=1.0, **settings)
    out["quarantine"] = read_table(wh, "audit.quarantine")
    out["fct"] = read_table(wh, "core.fct_dossier")
    return out


def assert_balanced(staged: dict, read: int) -> None:
    """``read`` records read, each loaded or quarantined."""
    assert staged["records_read"] == read
    assert staged["records_read"] == staged["records_loaded"] + staged["records_quarantined"]
