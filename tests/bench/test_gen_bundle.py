"""The benchmark generator (``bench/gen_bundle.py``): a tiny generated bundle has the
export layout and one snapshot per status change of each dossier; an incremental
bundle holds only newer snapshots, for about the asked share of dossiers, and base +
increment still agree with the reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from helpers.bench import assert_identities, floor, gen, normalise, records, reference


def test_generated_bundle_layout(base_bundle: Path) -> None:
    procs = pd.read_csv(base_bundle / "procedures.csv", dtype=str, keep_default_na=False)
    assert list(procs.columns) == gen.PROCEDURE_COLUMNS
    assert procs["MaTTHC"].str.fullmatch(r"[12]\.\d{6}").all()
    agencies = pd.read_csv(base_bundle / "agencies.csv", dtype=str, keep_default_na=False)
    assert list(agencies.columns) == gen.AGENCY_COLUMNS
    assert len(agencies) >= 24
    files = sorted((base_bundle / "dossiers").glob("part-*.jsonl.gz"))
    assert len(files) == 3  # one slice of 128 dossiers per file at least
    recs = records(base_bundle)
    by_dossier: dict[str, list[dict]] = {}
    for rec in recs:
        by_dossier.setdefault(rec["MaHoSo"], []).append(rec)
    assert len(by_dossier) == 300
    assert 3.5 <= len(recs) / 300 <= 6
    statuses = {int(r["TrangThaiHoSo"]) for r in recs}
    assert {1, 2, 4, 9, 10} <= statuses
    for snaps in by_dossier.values():
        snaps.sort(key=lambda r: r["NgayCapNhat"])
        for k, s in enumerate(snaps, start=1):
            assert len(s["QuaTrinhXuLy"]) == k  # one snapshot per status change
            assert s["QuaTrinhXuLy"][-1]["TrangThai"] == s["TrangThaiHoSo"]
            assert s["QuaTrinhXuLy"][-1]["ThoiDiemXuLy"] == s["NgayCapNhat"]
            assert s["KenhThucHien"] in (1, 2, 3)
            if s["NgayTiepNhan"]:
                assert s["NgayHenTra"] and s["NgayHenTra"] >= s["NgayTiepNhan"]
            assert "20230101000000" <= s["NgayCapNhat"] <= "20250101000000"


def test_incremental_bundle(base_bundle: Path, base_floor: pd.DataFrame, tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    plan = gen.plan_from_args(
        [
            "--changed-fraction",
            "0.2",
            "--base-dir",
            str(base_bundle),
            "--out",
            str(inc),
            "--new-dossiers",
            "5",
        ]
    )
    meta = gen.generate(plan, log=False)
    assert meta["kind"] == "incremental" and meta["cutoff"] == "20250102000000"
    base_current: dict[str, dict] = {}
    for rec in records(base_bundle):
        old = base_current.get(rec["MaHoSo"])
        if old is None or rec["NgayCapNhat"] > old["NgayCapNhat"]:
            base_current[rec["MaHoSo"]] = rec
    recs = records(inc)
    for rec in recs:
        old = base_current.get(rec["MaHoSo"])
        if old is None:
            continue
        hist, old_hist = rec["QuaTrinhXuLy"], old["QuaTrinhXuLy"]
        if len(hist) == len(old_hist):  # a closed dossier re-sent
            assert hist == old_hist and rec["TrangThaiHoSo"] == old["TrangThaiHoSo"]
        else:  # an open dossier's next step
            assert hist[:-1] == old_hist and len(hist) == len(old_hist) + 1
            assert hist[-1]["ThoiDiemXuLy"] == rec["NgayCapNhat"]
            assert hist[-1]["TrangThai"] == rec["TrangThaiHoSo"]
    assert all("20250101000000" < r["NgayCapNhat"] < "20250102000000" for r in recs)
    changed = {r["MaHoSo"] for r in recs if r["MaHoSo"] in base_current}
    new = {r["MaHoSo"] for r in recs} - changed
    assert 30 <= len(changed) <= 90  # about 20 % of 300
    assert len(new) == 5
    assert len(recs) == len(changed) + sum(1 for r in recs if r["MaHoSo"] in new)
    assert (inc / "procedures.csv").read_bytes() == (base_bundle / "procedures.csv").read_bytes()
    merged = tmp_path / "merged"
    (merged / "dossiers").mkdir(parents=True)
    for src, tag in ((base_bundle, "a"), (inc, "b")):
        for f in (src / "dossiers").glob("*.jsonl.gz"):
            shutil.copy(f, merged / "dossiers" / f"{tag}-{f.name}")
    got = normalise(floor.floor_frame(merged))
    assert_identities(got)
    pd.testing.assert_frame_equal(got, normalise(reference(merged)))
    assert not got.equals(base_floor)
