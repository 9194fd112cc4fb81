"""`sailir kira JOBFILE`: a Kira job file run by sailir, its exact rules written where Kira writes
them (results/FAM/kira_*.m, .inc), checked against fresh numeric reductions; bad job files; and
the job file of a published Kira project (FeynHelpers), read but not reduced."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

import sailir
from sailir.kira_job import KiraJobError, SectorSpec, parse_job_file, sector_integrals

SAILIR = str(Path(sys.executable).parent / "sailir")
PROJECT = Path(__file__).parent / "data" / "kira_job_trianglebox"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "kira_configs"
POINT = {"d": 41, "m1": 1, "m2": 31, "m3": 47}
PRIME = 9223372036854775643  # not the default prime of the reduction
FAM = "trianglebox"


def run_kira(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAILIR, "kira", *args], capture_output=True, text=True, cwd=cwd)


def project(tmp_path: Path) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(PROJECT, dest)
    return dest


def powers(text: str) -> tuple[int, ...]:
    return tuple(int(a) for a in text.split(","))


def parse_rules(
    text: str, form: bool, family: str = FAM
) -> dict[tuple[int, ...], dict[tuple[int, ...], sympy.Expr]]:
    """Rules of a kira_*.m (Mathematica) or kira_*.inc (FORM) file: target -> {master: coefficient}."""
    opening, closing = (r"\(", r"\)") if form else (r"\[", r"\]")
    call = re.compile(rf"{family}{opening}(-?\d+(?:,-?\d+)*){closing}")
    body = text.strip()
    if form:
        entries = [e for e in body.split(";") if e.strip()]
    else:
        assert body.startswith("{") and body.endswith("}")
        entries = [e for e in body[1:-1].split("\n,\n") if e.strip()]
    names: dict[str, tuple[int, ...]] = {}

    def symbol(match: re.Match[str]) -> str:
        name = "J" + match.group(1).replace("-", "m").replace(",", "_")
        names[name] = powers(match.group(1))
        return name

    rules = {}
    local = {"num": lambda x: x, "den": lambda x: 1 / x}
    for entry in entries:
        lhs, rhs = entry.split("=" if form else "->", 1)
        lhs = lhs.strip().removeprefix("id ").strip()
        target = powers(call.fullmatch(lhs).group(1))
        expr = sympy.sympify(call.sub(symbol, rhs).replace("^", "**"), locals=local)
        rules[target] = {names[s.name]: expr.coeff(s) for s in expr.free_symbols if s.name in names}
        assert expr == sum(c * sympy.Symbol(_name(m)) for m, c in rules[target].items())
    return rules


def _name(m: tuple[int, ...]) -> str:
    return "J" + "_".join(str(a) for a in m).replace("-", "m")


def residue(value: sympy.Expr, prime: int) -> int:
    q = Fraction(str(sympy.nsimplify(value)))
    return q.numerator % prime * pow(q.denominator % prime, -1, prime) % prime


def at_point(coefficient: sympy.Expr) -> sympy.Expr:
    return coefficient.subs({sympy.Symbol(k): v for k, v in POINT.items()})


@pytest.mark.parametrize("point", [None, "m2=31,m3=47"])
def test_job_writes_kira_files_that_match_a_numeric_reduction(tmp_path, point):
    proj = project(tmp_path)
    args = ["proj/jobs.yaml"] + (["--point", point] if point else [])
    proc = run_kira(*args, cwd=tmp_path)  # from another directory: paths are the job file's
    assert proc.returncode == 0, proc.stderr
    results = proj / "results" / FAM
    files = {p.name for p in results.iterdir()}
    assert files == {"masters", "masters.final", f"kira_{FAM}.m", "kira_target_integrals.m",
                     "kira_target_integrals.inc"}  # fmt: skip
    for name in files:
        assert f"wrote {results / name}" in proc.stdout.splitlines()
    # Kira's algorithm switches are ignored with a one-line notice each.
    for key in ("integral_ordering", "run_initiate", "run_triangular", "run_back_substitution"):
        assert sum(f"ignoring {key} " in line for line in proc.stderr.splitlines()) == 1

    listed = parse_rules((results / "kira_target_integrals.m").read_text(), form=False)
    form = parse_rules((results / "kira_target_integrals.inc").read_text(), form=True)
    sectors = parse_rules((results / f"kira_{FAM}.m").read_text(), form=False)
    assert listed == form
    targets = [powers(m.group(1)) for m in re.finditer(r"\[(.*)\]", (proj / "target_integrals").read_text())]
    masters_file = proj / "preferred_masters"
    basis = {powers(m.group(1)) for m in re.finditer(r"\[(.*)\]", masters_file.read_text())}
    # Kira writes no rule for a master; the zero-sector integral comes first, as `+ 0`.
    zero = (1, 0, 0, 0, 1, 0, 0)
    assert list(listed) == [zero] + [t for t in targets if t not in basis and t != zero]
    assert listed[zero] == {}
    # Sector 21 (propagators 1, 3, 5) and its subsectors, r <= 4, s <= 1, counted independently.
    brute = {
        x
        for x in itertools.product(range(-1, 5), repeat=7)
        if any(a > 0 for a in x)
        and all(a <= 0 for i, a in enumerate(x) if i not in (0, 2, 4))
        and sum(a for a in x if a > 0) <= 4
        and -sum(a for a in x if a < 0) <= 1
    }
    assert set(sectors) == brute - basis
    symbols = set().union(*(c.free_symbols for row in sectors.values() for c in row.values()))
    assert {s.name for s in symbols} == ({"d"} if point else {"d", "m2", "m3"})

    numeric = sailir.reduce(
        [f"I[{','.join(map(str, t))}]" for t in [*listed, *sectors]],
        str(proj),
        point=POINT,
        prime=PRIME,
        masters=masters_file,
    )
    nonzero = 0
    for rules in (listed, sectors):
        for target, row in rules.items():
            want = numeric.reductions[f"I[{','.join(map(str, target))}]"]
            got = {f"I[{','.join(map(str, m))}]": residue(at_point(c), PRIME) for m, c in row.items()}
            assert got == {m: v for m, v in want.items() if v}, target
            nonzero += bool(row)
    assert nonzero >= 10  # the comparison is not between empty rules
    masters = (results / "masters").read_text().splitlines()
    assert masters and all(re.fullmatch(rf"{FAM}\[[-0-9,]+\] # \d+", line) for line in masters)
    assert {powers(line[line.index("[") + 1 : line.index("]")]) for line in masters} <= basis


def write_job(proj: Path, text: str) -> Path:
    path = proj / "bad.yaml"
    path.write_text(text)
    return path


def test_unknown_key_is_a_one_line_error(tmp_path):
    proj = project(tmp_path)
    write_job(proj, "jobs:\n  - kira2math:\n      target:\n        - [trianglebox, target_integrals]\n"
                    "      frobnicate: 3\n")  # fmt: skip
    proc = run_kira("bad.yaml", cwd=proj)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "unknown key 'frobnicate'" in proc.stderr
    assert not (proj / "results").exists()


def test_missing_integral_file_is_a_one_line_error(tmp_path):
    proj = project(tmp_path)
    write_job(proj, "jobs:\n  - reduce_sectors:\n      select_integrals:\n        select_mandatory_list:\n"
                    "          - [trianglebox, nothere]\n      run_initiate: true\n")  # fmt: skip
    proc = run_kira("bad.yaml", cwd=proj)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "integral file nothere not found" in proc.stderr
    assert not (proj / "results").exists()


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("jobs:\n  - merge:\n      files2merge: [a]\n", "job 'merge' is not supported"),
        (
            "jobs:\n  - kira2math:\n      target:\n        - {sectors: [127], r: 7, s: 0}\n",
            "top_level_sectors",
        ),
        ("jobs:\n  - kira2math:\n      target:\n        - {sectors: [63], r: 7}\n", "missing key 's'"),
        ("jobs:\n  - kira2math:\n      target:\n        - [other, target_integrals]\n", "no family 'other'"),
        (
            "jobs:\n  - kira2math:\n      target:\n        - [trianglebox, target_integrals]\n"
            "      reconstruct_mass: true\n",
            "reconstruct_mass is not supported",
        ),  # fmt: skip
        ("tasks: []\n", "unknown key 'tasks'"),
    ],
)
def test_bad_job_files(tmp_path, job, message):
    proj = project(tmp_path)
    with pytest.raises(KiraJobError, match=re.escape(message)):
        parse_job_file(write_job(proj, job))


def test_config_one_level_up_and_lists_beside_the_job_file(tmp_path):
    proj = project(tmp_path)
    jobs = proj / "jobs"
    jobs.mkdir()
    (jobs / "list.m").write_text("{trianglebox[1, 0, 1, 0, 1, 0,\n  -1]}\n")
    (jobs / "job.yaml").write_text("jobs:\n  - kira2math:\n      target:\n        - [trianglebox, list.m]\n")
    proc = run_kira("job.yaml", "--point", "d=41,m2=31,m3=47", cwd=jobs)
    assert proc.returncode == 0, proc.stderr
    out = proj / "results" / FAM / "kira_list.m.m"
    assert out.read_text() == "{\ntrianglebox[1,0,1,0,1,0,-1] -> \n + trianglebox[1,0,1,0,1,0,0]*(235/3)\n}\n"


def test_reduction_job_alone_lists_masters_and_an_export_job_reuses_them(tmp_path):
    proj = project(tmp_path)
    (proj / "reduce.yaml").write_text(
        "jobs:\n  - reduce_sectors:\n      select_integrals:\n        select_mandatory_recursively:\n"
        "          - {sectors: [21], r: 4, s: 1}\n      run_initiate: true\n"
    )
    dry = run_kira("--dry-run", "reduce.yaml", cwd=proj)
    assert dry.returncode == 0 and "trianglebox: 212 integrals selected" in dry.stdout, dry.stderr
    assert not (proj / "results").exists()
    proc = run_kira("reduce.yaml", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert "nothing reduced" in proc.stderr
    assert (proj / "results" / FAM / "masters").read_text() == f"{FAM}[1,0,1,0,1,0,0] # 21\n"
    (proj / "export.yaml").write_text(
        "jobs:\n  - kira2form:\n      target:\n        - [trianglebox, target_integrals]\n"
    )
    proc = run_kira("export.yaml", "--point", "m2=31,m3=47", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert f"preferred masters from {proj / 'results' / FAM / 'masters'}" in proc.stderr
    assert (
        "id trianglebox(1,0,1,0,1,0,-1) = \n + trianglebox(1,0,1,0,1,0,0)*(235/3)\n;\n"
        in (proj / "results" / FAM / "kira_target_integrals.inc").read_text()
    )


def test_sector_integrals_count_r_and_s():
    got = list(sector_integrals(0b101, 3, r=3, s=1))
    assert len(got) == len(set(got))
    assert set(got) == {
        x
        for x in itertools.product(range(-1, 4), repeat=3)
        if x[1] <= 0 and any(a > 0 for a in x) and sum(a for a in x if a > 0) <= 3 and x.count(-1) <= 1
    }
    assert all(sum(a - 1 for a in x if a > 0) <= 0 for x in sector_integrals(0b111, 3, r=5, s=2, d=0))


def test_feynhelpers_job_file_parses():
    """The FeynHelpers project ships Kira's own export: the integrals sailir would export for its
    kira2math target are exactly the ones Kira wrote rules for, plus Kira's masters."""
    root = SHARED / "feynhelpers_prop2L"
    if not root.is_dir():
        pytest.skip(f"{root} is not here")
    job = parse_job_file(root / "job.yaml")
    fam = "asyR1prop2Ltopo01310X11111N1"
    assert list(job.families) == [fam] and job.project == root
    assert [n for n in job.notices if "run_" in n] and len(job.reductions) == 1
    (listed,) = job.reductions[0].selections
    assert listed.family is None and len(listed.integrals) == 4
    assert listed.integrals[3] == (fam, (1, 1, 1, -1, -1))
    (export,) = job.exports
    assert export.kind == "kira2math"
    (target,) = export.targets
    assert isinstance(target, SectorSpec) and (target.sectors, target.r, target.s) == ((31,), 6, 4)
    ours = set(sector_integrals(31, 5, 6, 4))
    results = root / "results" / fam
    kira = {
        powers(m)
        for m in re.findall(r"^" + fam + r"\[([-0-9,]+)\] ->", (results / f"kira_{fam}.m").read_text(), re.M)
    }
    masters = {powers(m) for m in re.findall(r"\[([-0-9,]+)\]", (results / "masters").read_text())}
    assert ours == kira | masters and not kira & masters


def test_published_job_file_naming_a_missing_list():
    """The pentagon-box job file names `target_integrals`, which its project ships under another name."""
    root = SHARED / "sailir_pentagonbox"
    if not root.is_dir():
        pytest.skip(f"{root} is not here")
    with pytest.raises(KiraJobError, match="integral file target_integrals not found"):
        parse_job_file(root / "kira_jobs.yaml")


def test_feynhelpers_exact_rules_equal_kiras(tmp_path):
    """`sailir kira` on the FeynHelpers family (config and masters copied to a temporary project):
    its exact rules for a few integrals of Kira's table equal Kira's, symbolically in d, mb, mg."""
    root = SHARED / "feynhelpers_prop2L"
    if not root.is_dir():
        pytest.skip(f"{root} is not here")
    fam = "asyR1prop2Ltopo01310X11111N1"
    results = root / "results" / fam
    shutil.copytree(root / "config", tmp_path / "config")
    shutil.copyfile(results / "masters", tmp_path / "basis")
    chosen = ["1,1,1,1,1", "2,1,1,1,1", "1,1,2,1,1", "1,1,1,1,2", "-4,1,1,1,3", "1,0,-1,0,0"]
    (tmp_path / "list").write_text("".join(f"{fam}[{x}]\n" for x in chosen))
    (tmp_path / "job.yaml").write_text(
        "jobs:\n  - reduce_sectors:\n      reduce:\n        - {sectors: [b11111], r: 6, s: 4}\n"
        f"      select_integrals:\n        select_mandatory_list:\n          - [{fam}, list]\n"
        f"      preferred_masters: basis\n  - kira2math:\n      target:\n        - [{fam}, list]\n"
    )
    proc = run_kira("job.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ours = (tmp_path / "results" / fam / "kira_list.m").read_text()
    kira = (results / f"kira_{fam}.m").read_text()
    wanted = {powers(x) for x in chosen}
    entries = [
        e for e in kira.strip()[1:-1].split("\n,\n") if powers(e[e.index("[") + 1 : e.index("]")]) in wanted
    ]
    got = parse_rules(ours, form=False, family=fam)
    want = parse_rules("{" + "\n,\n".join(entries) + "}", form=False, family=fam)
    assert set(got) == set(want) == wanted
    nonzero = 0
    for target, row in want.items():
        assert set(got[target]) == set(row), target
        for master, coefficient in row.items():
            assert sympy.cancel(got[target][master] - coefficient) == 0, (target, master)
            nonzero += 1
    assert nonzero >= 8
