"""Custom target formulas: a safe expression (simpleeval, never `eval`) over documented variables.

Numbers in the expression become `Decimal` exactly as written. Operators: + - * / (unary - and +),
comparisons < <= > >= == !=, `and`, `or`, `x if c else y`; functions min(), max(), abs(). Anything
else (** % // bit operators, attributes, subscripts, other calls) is refused with a message naming it. A formula is validated when it is
saved: it must parse, use only the variables and functions below, and evaluate on sample values.
A city whose value for a variable the formula uses is missing gets no target and a flag naming it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation

import simpleeval

VARIABLES: dict[str, str] = {
    "ly": "like-for-like last-year-same-period total of the comparable outlets",
    "run_rate": "basis of the outlets opened since: run rate (average daily × period days) + peer basis",
    "base": "ly + run_rate",
    "multiplier": "the tiered model's multiplier for the city's tier",
    "hy_growth": "like-for-like half-year growth rate (0.10 = +10 %), may be missing",
    "yoy_growth": "like-for-like year-on-year growth rate, may be missing",
    "gdp_growth": "regional GDP growth rate, may be missing",
    "days": "days in the target period",
    "comparable_outlets": "number of like-for-like outlets",
    "new_outlets": "number of outlets on the run-rate basis",
}

FUNCTIONS = {"min": min, "max": max, "abs": abs}

_OPERATORS = {
    node: simpleeval.DEFAULT_OPERATORS[node]
    for node in (
        ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd,
        ast.Gt, ast.Lt, ast.GtE, ast.LtE, ast.Eq, ast.NotEq,
    )
}


_SYMBOLS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.USub: "unary -", ast.UAdd: "unary +",
    ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Pow: "** (power)", ast.Mod: "% (modulo)", ast.FloorDiv: "// (floor division)", ast.MatMult: "@",
    ast.BitAnd: "& (bitwise and)", ast.BitOr: "| (bitwise or)", ast.BitXor: "^ (bitwise xor)",
    ast.LShift: "<< (shift)", ast.RShift: ">> (shift)", ast.Invert: "~ (bitwise not)", ast.Not: "not",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
ALLOWED_OPERATORS = "+ - * / (and unary -, +), comparisons < <= > >= == !=, and, or, x if c else y"
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Call, ast.Name, ast.Constant,
    ast.Load, ast.And, ast.Or, *(op for op in _SYMBOLS if op in _OPERATORS),
)


class FormulaError(ValueError):
    pass


def _describe(node: ast.AST) -> str:
    symbol = _SYMBOLS.get(type(node))
    return f"operator {symbol}" if symbol else type(node).__name__


class _DecimalEval(simpleeval.SimpleEval):
    def _eval_constant(self, node):  # noqa: D401 - simpleeval hook
        value = node.value
        if isinstance(value, bool) or value is None:
            raise FormulaError("only numbers and variables are allowed")
        if isinstance(value, (int, float)):
            text = ast.get_source_segment(self.expr, node) or repr(value)
            return Decimal(text.replace("_", ""))
        raise FormulaError(f"literal {value!r} is not a number")


def names_used(expression: str) -> set[str]:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords
        ):
            raise FormulaError(f"only the functions {sorted(FUNCTIONS)} may be called, with plain arguments")
        if not isinstance(node, _ALLOWED_NODES):
            if type(node) in _SYMBOLS:
                raise FormulaError(f"{_describe(node)} is not allowed in a formula; allowed: {ALLOWED_OPERATORS}")
            raise FormulaError(f"{_describe(node)} is not allowed in a formula")
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def validate(expression: str) -> str:
    """Return the cleaned expression or raise FormulaError explaining what is wrong."""
    expression = expression.strip()
    if not expression:
        raise FormulaError("empty formula")
    if len(expression) > 500:
        raise FormulaError("formula longer than 500 characters")
    unknown = names_used(expression) - set(VARIABLES)
    if unknown:
        raise FormulaError(f"unknown variables {sorted(unknown)}; allowed: {sorted(VARIABLES)}")
    sample = {name: Decimal("1.5") for name in VARIABLES}
    result = evaluate(expression, sample)
    if not isinstance(result, Decimal):
        raise FormulaError("the formula must produce a number")
    return expression


def evaluate(expression: str, values: Mapping[str, Decimal]) -> Decimal:
    evaluator = _DecimalEval(operators=_OPERATORS, functions=FUNCTIONS, names=dict(values))
    try:
        result = evaluator.eval(expression.strip())
    except FormulaError:
        raise
    except (DivisionByZero, ZeroDivisionError, InvalidOperation) as exc:
        raise FormulaError(f"arithmetic error: {exc.__class__.__name__}") from None
    except simpleeval.OperatorNotDefined:
        raise FormulaError(f"an operator that is not allowed; allowed: {ALLOWED_OPERATORS}") from None
    except simpleeval.InvalidExpression as exc:
        raise FormulaError(str(exc)) from None
    except (TypeError, SyntaxError) as exc:
        raise FormulaError(str(exc)) from None
    if isinstance(result, bool) or not isinstance(result, (Decimal, int)):
        raise FormulaError("the formula must produce a number")
    return Decimal(result)
