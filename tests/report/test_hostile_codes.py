"""Trust boundary: procedure codes come from the source and become file names of the
report's ``explain/`` CSVs. A code such as ``../../x``, one with a NUL byte, or one of
300 characters (unknown codes load, with a warning) must not write outside the report
folder nor crash the report: each gets a safe name (readable slug + hash), its file holds
that code's dossiers, and the HTML report links to it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers.bundle import dossier, procedure, run_pipeline, write_bundle

from motcua.cli import main
from motcua.explain import explain_file_name

HOSTILE = {
    "traversal": "../../x",
    "nul": "1.00\u00000x",
    "long": "9." + "7" * 298,
    "absolute": "/tmp/motcua-hostile-abs",
}


def _dossiers() -> list[dict]:
    out = [dossier("OK-1", 9, "20190308100000", procedure_code="1.000001", intake="20190304090000",
                   due="20190311170000", resolved="20190308100000",
                   history=[(2, "20190304090000"), (9, "20190308100000")])]
    for i, (label, code) in enumerate(HOSTILE.items()):
        for j in range(2):
            out.append(dossier(f"H-{label}-{j}", 9, f"2019040{i + 1}100000", procedure_code=code,
                               intake=f"2019040{i + 1}090000", due=f"2019041{i + 1}170000",
                               resolved=f"2019040{i + 1}100000",
                               history=[(2, f"2019040{i + 1}090000"), (9, f"2019040{i + 1}100000")]))
    return out


def _tree(root: Path, skip: set[Path]) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not any(p == s or s in p.parents for s in skip)}


def test_hostile_procedure_codes_stay_inside_the_report_folder(tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a relative escape would land here
    bundle = write_bundle(tmp_path / "bundle", _dossiers(), procedures=[procedure("1.000001")])
    data_dir = tmp_path / "data"
    url = f"duckdb:///{data_dir / 'warehouse.duckdb'}"
    run_pipeline(bundle, url, data_dir, quarantine_threshold=0.9)
    out = tmp_path / "reports" / "2019"
    before = _tree(tmp_path, {out.parent, data_dir})
    absolute = Path(HOSTILE["absolute"])
    leftovers_before = set(absolute.parent.glob(absolute.name + "*"))

    result = CliRunner().invoke(main, ["report", "--year", "2019", "--warehouse", url, "--out", str(out)])

    assert result.exit_code == 0, result.output + repr(result.exception)
    # nothing written outside the report folder (nor next to it, nor in the working folder, nor at /tmp)
    assert _tree(tmp_path, {out.parent, data_dir}) == before
    assert set((tmp_path / "reports").iterdir()) == {out}
    assert set(absolute.parent.glob(absolute.name + "*")) == leftovers_before
    assert not list(work.iterdir())
    resolved_out = out.resolve()
    for p in out.rglob("*"):
        assert resolved_out in p.resolve().parents
    # each hostile code has its explain file, holding exactly its dossiers
    for label, code in HOSTILE.items():
        name = explain_file_name(code, "resolved_total")
        assert "/" not in name and "\x00" not in name and not name.startswith(".") and len(name.encode()) < 100
        f = out / "explain" / name
        assert f.is_file(), f"no explain file for the {label} code"
        rows = pd.read_csv(f, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        assert sorted(rows["dossier_code"]) == [f"H-{label}-0", f"H-{label}-1"]
        assert set(rows["procedure_code"]) == {code}
    # the HTML links point at files that exist, inside explain/
    page = next(out.glob("*.html")).read_text(encoding="utf-8")
    hrefs = {html.unescape(h) for h in re.findall(r'class="explain" href="([^"]+)"', page)}
    assert hrefs
    for href in hrefs:
        assert href.startswith("explain/") and (out / href).is_file(), href
    for code in HOSTILE.values():
        assert f"explain/{explain_file_name(code, 'resolved_total')}" in hrefs


@pytest.mark.parametrize("code", [*HOSTILE.values(), "..", ".", "", "đ/ăâ\\x", "a" * 1000])
def test_explain_file_names_are_safe_and_distinct(code: str) -> None:
    name = explain_file_name(code, "received_new")
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), name
    assert len(name) <= 90
    assert explain_file_name(code + "x", "received_new") != name
