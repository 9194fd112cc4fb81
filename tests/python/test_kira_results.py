"""Against Kira's own output: the FeynHelpers propagator family (bilinear propagators, masses mb
and mg) ships Kira's reduction table, symbolic in d, mb and mg (../shared/kira_configs, GPL: read
in place, never copied). Every integral of that table is reduced by sailir at two random points
onto Kira's 4 masters, and each coefficient equals Kira's rule evaluated there, modulo the prime.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import sailir

KIRA = Path(__file__).resolve().parents[3] / "shared" / "kira_configs" / "feynhelpers_prop2L"
FAMILY = "asyR1prop2Ltopo01310X11111N1"
RESULTS = KIRA / "results" / FAMILY
_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_]\w*)|(.))")
_RULE = re.compile(rf"{FAMILY}\[([-\d,]+)\]\s*->")
_TERM = re.compile(rf"([+-])\s*{FAMILY}\[([-\d,]+)\]\*")


class ModP:
    """Evaluates a Mathematica expression (+ - * / ^, parentheses, integers, symbols) mod p."""

    def __init__(self, text: str, values: dict[str, int], p: int) -> None:
        self.tokens = [m.group(1) or m.group(2) or m.group(3) for m in _TOKEN.finditer(text)]
        self.tokens = [t for t in self.tokens if t and not t.isspace()]
        self.pos, self.values, self.p = 0, values, p

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def sum(self) -> int:
        sign = -1 if self.peek() == "-" and self.take() else 1
        total = sign * self.product()
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            total += sign * self.product()
        return total % self.p

    def product(self) -> int:
        value = self.power()
        while self.peek() in ("*", "/"):
            op, rhs = self.take(), self.power()
            value = value * (rhs if op == "*" else pow(rhs, -1, self.p)) % self.p
        return value

    def power(self) -> int:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return pow(base, int(self.take()), self.p)
        return base

    def atom(self) -> int:
        token = self.take()
        if token == "(":
            value = self.sum()
            assert self.take() == ")"
            return value
        if token == "-":
            return -self.atom() % self.p
        return int(token) % self.p if token.isdigit() else self.values[token]


def kira_table() -> dict[str, list[tuple[str, str, str]]]:
    """integral -> [(sign, master, coefficient text)] from Kira's kira_FAMILY.m."""
    text = (RESULTS / f"kira_{FAMILY}.m").read_text(encoding="utf-8")
    starts = list(_RULE.finditer(text))
    table = {}
    for k, m in enumerate(starts):
        body = text[m.end() : starts[k + 1].start() if k + 1 < len(starts) else len(text)]
        body = body.rstrip().rstrip("}").rstrip().rstrip(",")
        heads = list(_TERM.finditer(body))
        terms = []
        for j, t in enumerate(heads):
            coefficient = body[t.end() : heads[j + 1].start() if j + 1 < len(heads) else len(body)]
            terms.append((t.group(1), f"I[{t.group(2)}]", coefficient.strip()))
        table[f"I[{m.group(1)}]"] = terms
    return table


@pytest.mark.skipif(not KIRA.is_dir(), reason="../shared/kira_configs is not available")
@pytest.mark.parametrize("seed", [1, 2])
def test_feynhelpers_matches_kira(seed: int) -> None:
    table = kira_table()
    assert len(table) == 10727
    rng = random.Random(seed)
    point = {s: f"{rng.randint(2, 10**6)}/{rng.randint(2, 10**4)}" for s in ("d", "mb", "mg")}
    r = sailir.reduce(list(table), str(KIRA), point=point, masters=str(RESULTS / "masters"), check=False)
    p = r.prime
    values = {
        s: int(a) * pow(int(b), -1, p) % p for s, (a, b) in ((s, v.split("/")) for s, v in point.items())
    }
    nonzero = 0
    for integral, terms in table.items():
        expected: dict[str, int] = {}
        for sign, master, coefficient in terms:
            value = ModP(coefficient, values, p).sum()
            expected[master] = (expected.get(master, 0) + (value if sign == "+" else -value)) % p
        expected = {m: v for m, v in expected.items() if v}
        assert r.reductions[integral] == expected, integral
        nonzero += bool(expected)
    assert nonzero > 1000, nonzero  # the comparison is not vacuous
