"""Size figures of the package, as the architecture targets state them.

    python -m scripts.code_metrics [--src src/shuzhi]

Prints the modules over 600 lines (migrations excepted), the function-length p90 and maximum,
the functions over 80 lines (migrations excepted; the demo builder is listed but allowed), and
the number of ``type: ignore`` comments.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

MODULE_LIMIT = 600
FUNCTION_LIMIT = 80


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, default=Path("src/shuzhi"))
    root = parser.parse_args().src
    lengths: list[int] = []
    long_functions: list[tuple[int, str]] = []
    big_modules: list[tuple[int, str]] = []
    ignores = 0
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        ignores += text.count("type: ignore")
        if "migrations" in path.parts:
            continue
        name = str(path.relative_to(root))
        lines = text.count("\n")
        if lines > MODULE_LIMIT:
            big_modules.append((lines, name))
        for node in _functions(ast.parse(text)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            lengths.append(length)
            if length > FUNCTION_LIMIT:
                long_functions.append((length, f"{name}:{node.name}"))
    lengths.sort()
    p90 = lengths[int(len(lengths) * 0.9)] if lengths else 0
    print(f"functions: {len(lengths)}, length p90 {p90}, max {lengths[-1] if lengths else 0}")
    print(f"modules over {MODULE_LIMIT} lines (migrations excepted): {len(big_modules)}")
    for lines, name in sorted(big_modules, reverse=True):
        print(f"  {lines:5d} {name}")
    print(f"functions over {FUNCTION_LIMIT} lines: {len(long_functions)}")
    for length, name in sorted(long_functions, reverse=True):
        print(f"  {length:5d} {name}{'  (demo builder)' if name.startswith('demo/') else ''}")
    print(f"type: ignore comments: {ignores}")


if __name__ == "__main__":
    main()
