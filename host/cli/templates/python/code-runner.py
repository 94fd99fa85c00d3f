"""{{NAME}}: a Warden code runner. Each cell is a line of ``name = number`` or an arithmetic
expression over earlier names; replace the logic with your own."""

import ast
import json
import operator

from warden_sdk import CodeRunner, EvalOutput, InputError, Position, Session, SessionOptions

# Not `ast.unparse` (which imports `_ast_unparse` when first called on Python 3.14): a component
# holds only the modules imported while it was built, so import what you need at the top.
def _source(code: str, node: ast.AST) -> str:
    return ast.get_source_segment(code, node) or type(node).__name__


OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class Calculator(Session):
    def __init__(self, options: SessionOptions, names: dict | None = None) -> None:
        super().__init__(options)
        self.names = dict(names or {})
        self.code = ""

    def _value(self, node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in OPS:
            try:
                return OPS[type(node.op)](self._value(node.left), self._value(node.right))
            except ZeroDivisionError:
                raise InputError("exception", "division by zero") from None
        raise InputError("unsupported", f"cannot evaluate {_source(self.code, node)}")

    def eval(self, code: str) -> EvalOutput:
        self.code = code
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            raise InputError("syntax", e.msg, Position(e.lineno or 1, e.offset or 1)) from None
        last = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.names[stmt.targets[0].id] = self._value(stmt.value)
                last = None
            elif isinstance(stmt, ast.Expr):
                last = self._value(stmt.value)
            else:
                raise InputError("unsupported", f"cannot run {_source(code, stmt)}")
        if last is None:
            return EvalOutput()
        return EvalOutput(repr=repr(last), json=json.dumps(last))

    def snapshot(self) -> bytes:
        return json.dumps(self.names).encode()

    @classmethod
    def restore(cls, snapshot: bytes, options: SessionOptions) -> "Calculator":
        return cls(options, json.loads(snapshot))


class Plugin(CodeRunner):
    session = Calculator
