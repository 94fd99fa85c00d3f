"""stats-cells: a Warden code runner for the figures an LLM computes in an analysis step.

A cell is Python syntax restricted to arithmetic over numbers, lists of numbers, names set by
earlier cells, and an allow-list of functions (``statistics`` and a few built-ins), e.g.::

    revenue = [120, 135, 160.5]
    growth = (revenue[-1] - revenue[0]) / revenue[0] * 100
    round(growth, 1), median(revenue)

Anything else (attribute access, imports, loops, strings beyond literals) is an ``unsupported``
input error naming the construct, so an LLM gets a message it can correct. The session's
state is its names, which snapshot as JSON.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import statistics
from typing import Any

from warden_sdk import CodeRunner, EvalOutput, InputError, Position, Session, SessionOptions

BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
COMPARE = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
FUNCTIONS = {
    "mean": statistics.fmean, "median": statistics.median, "mode": statistics.mode,
    "stdev": statistics.stdev, "pstdev": statistics.pstdev, "variance": statistics.variance,
    "quantiles": statistics.quantiles, "correlation": statistics.correlation,
    "sum": sum, "min": min, "max": max, "len": len, "abs": abs, "round": round,
    "sorted": sorted, "sqrt": math.sqrt, "log": math.log,
}
#: The largest exponent `**` accepts: beyond it a cell could build a number of gigabytes.
MAX_EXPONENT = 10_000


def _source(code: str, node: ast.AST) -> str:
    # Not `ast.unparse`: on Python 3.14 it imports `_ast_unparse` when first called, and a
    # component holds only the modules imported while it was built.
    return (ast.get_source_segment(code, node) or type(node).__name__).splitlines()[0]


def _where(node: ast.AST) -> Position:
    return Position(getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1)


class Cells(Session):
    def __init__(self, options: SessionOptions, names: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.names: dict[str, Any] = dict(names or {})
        self.code = ""

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            raise InputError("exception", f"name '{node.id}' is not defined", _where(node))
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise InputError("exception", f"exponent {right} is over {MAX_EXPONENT}", _where(node))
            return self.apply(BINARY[type(node.op)], node, left, right)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
            return self.apply(COMPARE[type(node.ops[0])], node, self.value(node.left), self.value(node.comparators[0]))
        if isinstance(node, ast.Subscript):
            return self.apply(operator.getitem, node, self.value(node.value), self.value(node.slice))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords:
            return self.apply(FUNCTIONS[node.func.id], node, *[self.value(a) for a in node.args])
        raise InputError("unsupported", f"`{_source(self.code, node)}` is not arithmetic, a list or an allowed function ({', '.join(sorted(FUNCTIONS))})", _where(node))

    @staticmethod
    def apply(f: Any, node: ast.AST, *args: Any) -> Any:
        try:
            return f(*args)
        except (ArithmeticError, ValueError, TypeError, IndexError, statistics.StatisticsError) as e:
            raise InputError("exception", f"{type(e).__name__}: {e}", _where(node)) from None

    def eval(self, code: str) -> EvalOutput:
        self.code = code
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            raise InputError("syntax", e.msg, Position(e.lineno or 1, e.offset or 1)) from None
        last: Any = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
                value = self.value(stmt.value)
                for t in stmt.targets:
                    self.names[t.id] = value
                last = None
            elif isinstance(stmt, ast.Expr):
                last = self.value(stmt.value)
            else:
                raise InputError("unsupported", f"`{_source(self.code, stmt)}`: a cell holds assignments and expressions", _where(stmt))
        if last is None:
            return EvalOutput()
        return EvalOutput(repr=repr(last), json=json.dumps(last))

    def snapshot(self) -> bytes:
        return json.dumps(self.names).encode()

    @classmethod
    def restore(cls, snapshot: bytes, options: SessionOptions) -> "Cells":
        try:
            names = json.loads(snapshot)
        except ValueError as e:
            raise InputError("snapshot", f"not a stats-cells snapshot: {e}") from None
        return cls(options, names)


class StatsCells(CodeRunner):
    session = Cells
