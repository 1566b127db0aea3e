"""The tree's shape: no import cycle among motcua's modules, counting the imports made
inside functions too (a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("motcua", "flows", "transforms", "expectations", "warehouse")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of the tree it imports (anywhere in its code)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            graph[module] |= {r for t in targets if (r := resolve(t)) and r != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycles_are_found_where_there_are_some():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    graph = import_graph()
    assert "flows.stages.stage" in graph and "motcua.settings" in graph["flows.stages.runs"]
    assert cycles(graph) == []


# --------------------------------------------------------------------------- layers
SQL_MODULES = ("sqlalchemy", "duckdb")


def sql_in(source: str) -> list[str]:
    """What in ``source`` talks to a database itself: an import of :data:`SQL_MODULES`
    (or of a module of theirs), or a call of an ``.execute(`` method; one line each, in
    the order of the source."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        found += [(node.lineno, f"import {n}") for n in names if n.partition(".")[0] in SQL_MODULES]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "execute":
            found.append((node.lineno, ".execute("))
    return [f"line {n}: {what}" for n, what in sorted(found)]


def test_sql_is_found_where_there_is_some():
    assert sql_in("import sqlalchemy as sa\nfrom duckdb import connect\nimport os\n") == [
        "line 1: import sqlalchemy", "line 2: import duckdb"]
    assert sql_in("def f(conn):\n    from sqlalchemy.engine import URL\n    return conn.execute('x')\n") == [
        "line 2: import sqlalchemy.engine", "line 3: .execute("]
    assert sql_in("from warehouse import audit\naudit.record_failure(1)\n") == []


def test_no_sql_in_flows():
    """flows/ orchestrates: SQL, connections and transactions live in warehouse/ (reads,
    audit rows, locks), pure logic in transforms/; a flow or stage calls them."""
    offences = {str(path.relative_to(ROOT)): found for path in sorted((ROOT / "flows").rglob("*.py"))
                if (found := sql_in(path.read_text(encoding="utf-8")))}
    assert offences == {}


def test_warehouse_does_not_import_flows():
    graph = import_graph()
    assert {m: sorted(t for t in targets if t.partition(".")[0] == "flows")
            for m, targets in graph.items() if m.partition(".")[0] == "warehouse"
            and any(t.partition(".")[0] == "flows" for t in targets)} == {}


def test_the_cli_runs_flows_never_their_stages_or_tasks():
    """A command and a schedule do the same thing: motcua/commands/ starts flows
    (flows.pipeline, flows.nightly …), never a stage or a task on its own."""
    graph = import_graph()
    assert {m: sorted(t for t in targets if t.startswith(("flows.stages", "flows.tasks")))
            for m, targets in graph.items() if m.startswith("motcua.commands")
            and any(t.startswith(("flows.stages", "flows.tasks")) for t in targets)} == {}


# --------------------------------------------------------------------------- size
MAX_LINES = 400
"""Longest a module of the tree (code, tests, bench) may grow before it is split."""


def test_no_module_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for folder in (*PACKAGES, "tests", "bench")
            for p in sorted((ROOT / folder).rglob("*.py"))
            if "migrations/versions" not in p.as_posix()
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
