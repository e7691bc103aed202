"""The shape of the code: imports go one way (no cycles, lazy imports included), no function in
playground/ is longer than MAX_LINES, and the app's pages import no torch."""

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "playground"
MAX_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` blocks (annotations only, never run)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    return skip


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The playground modules a module imports, at its top or inside a function."""
    tree = ast.parse(path.read_text())
    skip, out = _type_checking_only(tree), set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("playground"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m in modules}


def test_imports_go_one_way():
    modules = _modules()
    graph = {
        name: {t for t in _imports(path, modules) if t != name and not name.startswith(t + ".")}  # a package's own __init__ is no cycle
        for name, path in modules.items()
    }
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        raise AssertionError(f"modules that import each other, around this loop: {' -> '.join(e.args[1])}") from None


def test_no_function_is_longer_than_max_lines():
    long = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_pages_import_no_torch():
    for path in [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "streamlit_app.py"]:
        names = {a.name.split(".")[0] for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module.split(".")[0] for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
        assert "torch" not in names, path
