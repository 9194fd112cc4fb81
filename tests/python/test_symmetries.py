"""Sector symmetries: the relabellings found, checked by another route (Symanzik polynomials), and
the symmetric basis they give, against Kira's published basis and the plain reduction."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
import sympy

import sailir
from sailir.family import load_family
from sailir.familyfile import render_symmetries
from sailir.symmetries import all_maps, find_symmetries
from sailir.zero_sectors import symanzik_polynomials, zero_sectors

ROOT = Path(__file__).resolve().parents[2]
PENTAGONBOX = ROOT / "tests/python/data/kira_pentagonbox"
BOX2L = ROOT / "tools/benchmark/analytic/box2l.yaml"
BOX1L = ROOT / "tools/benchmark/analytic/box1l.yaml"
MAPPED = "I[1,0,1,0,0,1,0]"  # trianglebox: the image of I[0,1,1,1,0,0,0] under k1 -> -k2, k2 -> -k1


def _nonzero(spec: str) -> tuple[int, ...]:
    family = load_family(spec)
    zero = zero_sectors(family)
    n = len(family.propagators)
    lines = sum(1 << (i - 1) for i in range(1, n + 1) if i not in family.irreducible)
    return tuple(s for s in range(1, lines + 1) if s & ~lines == 0 and s not in zero)


@pytest.mark.parametrize("spec", ["trianglebox", str(BOX2L)])
def test_mappings_preserve_the_symanzik_polynomials(spec: str) -> None:
    """A relabelling of the loop momenta leaves U and F of a sector unchanged up to the line
    permutation: U_S(x) = U_T(x') with x'_pi(k) = x_k, and the same for F."""
    family = load_family(spec)
    u, f, xs = symanzik_polynomials(family)
    maps = all_maps(find_symmetries(family, _nonzero(spec)))
    assert maps
    for m in maps:
        source = {k for k, _ in m.permutation}
        on_source = {x: 0 for k, x in enumerate(xs) if k not in source}
        on_target = {x: 0 for k, x in enumerate(xs) if k not in {j for _, j in m.permutation}}
        rename = {xs[j]: xs[k] for k, j in m.permutation}
        for poly in (u, f):
            lhs = sympy.expand(poly.subs(on_source))
            rhs = sympy.expand(poly.subs(on_target).xreplace(rename))
            assert sympy.expand(lhs - rhs) == 0, (m.source, m.target, m.permutation)


def test_bubble_self_map_in_the_family_file() -> None:
    # k -> -k-p swaps the two lines of the massless bubble: each image is the other propagator.
    text = render_symmetries(load_family("bubble"))
    assert text == "symmetries 1 externals\nmap 3 3\nimage 0,1 0\nimage 1,0 0\n"


def test_trianglebox_symmetric_basis_and_plain_reduction_agree() -> None:
    targets = ["I[2,1,1,1,1,1,-1]", "I[1,0,2,0,0,1,0]", "I[1,1,1,1,1,1,-2]"]
    sym = sailir.reduce(targets, "trianglebox")
    plain = sailir.reduce(targets, "trianglebox", symmetries=False)
    fmt = {"I[" + ",".join(map(str, m)) + "]" for m in sym.masters}
    assert {"I[" + ",".join(map(str, m)) + "]" for m in plain.masters} - fmt == {MAPPED}
    p = sym.prime
    for t in targets:
        expected = dict(plain.reductions[t])
        moved = expected.pop(MAPPED, 0)
        expected["I[0,1,1,1,0,0,0]"] = (expected.get("I[0,1,1,1,0,0,0]", 0) + moved) % p
        assert sym.reductions[t] == {k: v for k, v in expected.items() if v}, t
    # The learned method ends on the same symmetric basis with the same coefficients.
    learned = sailir.reduce(targets[:2], "trianglebox", method="learned", verify=True)
    assert learned.masters == sym.masters and learned.stats["fallbacks"] == 0
    assert learned.reductions == {t: sym.reductions[t] for t in targets[:2]}


def test_symmetric_recording_replays(tmp_path: Path) -> None:
    path = tmp_path / "tb.rec"
    sailir.reduce(["I[1,0,2,0,0,1,0]"], "trianglebox", record=True).save_recording(path)
    point = "d=37/3,m1=1,m2=29,m3=53"
    replayed = sailir.replay(path, "trianglebox", point=point)
    direct = sailir.reduce(["I[1,0,2,0,0,1,0]"], "trianglebox", point=point)
    assert replayed.masters == direct.masters and replayed.reductions == direct.reductions
    assert list(direct.reductions["I[1,0,2,0,0,1,0]"]) == ["I[0,1,1,1,0,0,0]"]


def test_no_symmetries_on_the_command_line() -> None:
    run = [str(ROOT / ".venv/bin/sailir-reduce"), "I[1,0,2,0,0,1,0]"]
    with_sym = subprocess.run(run, capture_output=True, text=True, check=True)
    without = subprocess.run([*run, "--no-symmetries"], capture_output=True, text=True, check=True)
    assert '"I[1,0,1,0,0,1,0]"' not in with_sym.stdout.split('"reductions"')[1]
    assert '"I[1,0,1,0,0,1,0]"' in without.stdout.split('"reductions"')[1]


def test_pentagonbox_reaches_kiras_basis() -> None:
    """Kira's published 61 masters (found with symmetries) are exactly the symmetric basis when
    preferred, and the automatic basis has as many."""
    kira = [line.split("#")[0].strip() for line in (PENTAGONBOX / "masters").read_text().splitlines()]
    kira = [k.replace("TA[", "I[") for k in kira if k]
    point = "d=41,s12=31,s23=47,s34=53,s45=59,s51=67"
    info = sailir.sectors(str(PENTAGONBOX), point=point, masters=str(PENTAGONBOX / "masters"))
    ours = ["I[" + ",".join(map(str, m)) + "]" for m in info["masters"]]
    assert len(kira) == 61 and sorted(ours) == sorted(kira)
    assert len(info["masters_without_symmetries"]) == 62
    assert len(info["unique_sectors"]) == len(info["nonzero_sectors"]) - len(info["mappings"]) == 107


def test_numerator_images_at_explicit_momenta() -> None:
    """Each stored image D_j(l') = sum_m M_jm D_m(l) + c_j, checked with explicit 4-vectors: the
    relabelled loop momenta l' = A l + B p put into every propagator, numerators included."""
    import random

    from sailir.family import family_algebra

    family = load_family("trianglebox")
    algebra = family_algebra(family)
    p1, p3 = [1, 0, 0, 0], [3, -2, 5, 1]  # Euclidean components; p1.p1 = m1 = 1
    p2 = [b - a for a, b in zip(p1, p3, strict=True)]

    def dot(u: list, w: list) -> int:
        return sum(a * b for a, b in zip(u, w, strict=True))

    invariants = {"m1": 1, "m2": dot(p2, p2), "m3": dot(p3, p3)}
    externals = [
        dict(zip(family.external_momenta, (p1, p2, p3), strict=True))[e] for e in family.independent_externals
    ]
    rng = random.Random(5)

    def propagators(loops: list[list[int]]) -> list[sympy.Rational]:
        vectors = loops + externals
        values = []
        for form, mass in zip(algebra.forms, algebra.masses, strict=True):
            q = sum(form[a, b] * dot(u, w) for a, u in enumerate(vectors) for b, w in enumerate(vectors))
            values.append(sympy.Rational(q) - mass.subs(invariants))
        return values

    maps = all_maps(find_symmetries(family, _nonzero("trianglebox")))
    for m in maps:
        loops = [[rng.randint(-9, 9) for _ in range(4)] for _ in family.loop_momenta]
        vectors = loops + externals
        moved = [
            [sum(m.transform[i, j] * vectors[j][mu] for j in range(len(vectors))) for mu in range(4)]
            for i in range(len(loops))
        ]
        before, after = propagators(loops), propagators(moved)
        for j, (row, constant) in enumerate(m.images(family)):
            expected = sum(c * d for c, d in zip(row, before, strict=True)) + constant.subs(invariants)
            assert after[j] == expected, (m.source, m.target, j + 1)


@pytest.mark.parametrize("spec", ["trianglebox", str(BOX2L)])
def test_line_profiles_are_invariant_and_prune_nothing_found(spec: str, monkeypatch) -> None:
    """The search skips sector pairs and line images whose Symanzik profiles differ. Every mapping
    found sends each line to one with its profile, and switching the pruning off finds the same
    mappings."""
    from sailir import symmetries

    family = load_family(spec)
    nonzero = _nonzero(spec)
    pruned = find_symmetries(family, nonzero)
    shapes = symmetries._Shapes(family)
    for m in all_maps(pruned):
        ours, theirs = shapes.profiles(m.source), shapes.profiles(m.target)
        assert all(ours[k] == theirs[j] for k, j in m.permutation), (m.source, m.target)
        assert shapes.fingerprint(m.source) == shapes.fingerprint(m.target)
    monkeypatch.setattr(symmetries._Shapes, "profiles", lambda self, sector: dict.fromkeys(range(64), ()))
    find_symmetries.cache_clear()
    try:
        unpruned = find_symmetries(family, nonzero)
    finally:
        find_symmetries.cache_clear()
    assert pruned.unique == unpruned.unique
    assert [(m.source, m.target, m.permutation) for m in all_maps(pruned)] == [
        (m.source, m.target, m.permutation) for m in all_maps(unpruned)
    ]


def _minkowski(u: list, w: list) -> int:
    return u[0] * w[0] - sum(a * b for a, b in zip(u[1:], w[1:], strict=True))


def test_external_permutations_of_the_massless_leg_box() -> None:
    """The one-loop box with massless legs keeps s12 and s23 under the leg permutations that
    reverse or rotate it by two (with the overall sign: 8 maps). They map the two triangles with
    the same invariant onto each other, so 8 masters become 6. Every image is checked with
    explicit lightlike momenta, the externals moved by the map too."""
    from sailir.family import family_algebra
    from sailir.symmetries import external_maps

    family = load_family(str(BOX1L))
    algebra = family_algebra(family)
    maps = external_maps(algebra)
    assert len(maps) == 8 and maps[0] == sympy.eye(3)
    for p in maps:
        assert (p * algebra.gram * p.T - algebra.gram).expand() == sympy.zeros(3, 3)
    # p1 + p2 + p3 + p4 = 0, all lightlike: s12 = 4, s23 = -2.
    momenta = {"p1": [1, 1, 0, 0], "p2": [1, -1, 0, 0], "p3": [-1, 0, 1, 0]}
    externals = [momenta[e] for e in family.independent_externals]
    invariants = {"m2": 3, "s12": 4, "s23": -2}
    found = all_maps(find_symmetries(family, _nonzero(str(BOX1L))))
    assert any(m.transform[1:, 1:] != sympy.eye(3) for m in found)  # legs permuted
    rng = random.Random(7)

    def propagators(vectors: list[list]) -> list:
        return [
            sum(form[a, b] * _minkowski(u, w) for a, u in enumerate(vectors) for b, w in enumerate(vectors))
            - mass.subs(invariants)
            for form, mass in zip(algebra.forms, algebra.masses, strict=True)
        ]

    for m in found:
        vectors = [[rng.randint(-9, 9) for _ in range(4)]] + externals
        moved = [
            [sum(m.transform[i, j] * vectors[j][mu] for j in range(4)) for mu in range(4)] for i in range(4)
        ]
        before, after = propagators(vectors), propagators(moved)
        for j, (row, constant) in enumerate(m.images(family)):
            expected = sum(c * d for c, d in zip(row, before, strict=True)) + constant.subs(invariants)
            assert after[j] == expected, (m.source, m.target, j + 1)

    targets = ["I[2,1,1,1]", "I[1,1,1,3]", "I[2,2,1,3]"]
    point = "d=37/3,s12=7/5,s23=-11/13"
    sym = sailir.reduce(targets, str(BOX1L), point=point)
    plain = sailir.reduce(targets, str(BOX1L), point=point, symmetries=False)
    assert (len(sym.masters), len(plain.masters)) == (6, 8)
    names = ["I[" + ",".join(map(str, m)) + "]" for m in plain.masters]
    gone = [n for n in names if list(map(int, n[2:-1].split(","))) not in sym.masters]
    images = sailir.reduce(gone, str(BOX1L), point=point)  # each mapped triangle onto the 6
    p = sym.prime
    for t in targets:  # the plain reduction, its mapped masters replaced by their images
        combined: dict[str, int] = {}
        for master, c in plain.reductions[t].items():
            for m, v in (images.reductions[master] if master in gone else {master: 1}).items():
                combined[m] = (combined.get(m, 0) + c * v) % p
        assert sym.reductions[t] == {k: v for k, v in combined.items() if v}, t
