"""How big the runtime's modules and functions are: `python -m tests.architecture.sizes` prints the
largest of each; tests/architecture/test_sizes.py holds them to the house's limits."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "agentapp" / "agent"


def module_lines(package: Path = RUNTIME) -> dict[str, int]:
    return {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in package.rglob("*.py")}


def function_lines(package: Path = RUNTIME) -> dict[str, int]:
    """Each function's length from its `def` line to its last line (decorators left out)."""
    found: dict[str, int] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                found[name] = (node.end_lineno or node.lineno) - node.lineno + 1
    return found


def _largest(sizes: dict[str, int], n: int = 5) -> list[tuple[str, int]]:
    return sorted(sizes.items(), key=lambda item: -item[1])[:n]


if __name__ == "__main__":
    for title, sizes in (("modules", module_lines()), ("functions", function_lines())):
        print(f"largest {title} of agentapp/agent/ (lines):")
        for name, lines in _largest(sizes):
            print(f"  {lines:5d}  {name}")
