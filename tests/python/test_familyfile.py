"""The compiled family file: exact text, packaged files up to date, caching, and the compile CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import sailir.familyfile as familyfile
from sailir.compile import main as compile_main
from sailir.family import builtin_names, family_hash, load_family
from sailir.familyfile import compile_family, regenerate_builtins, render_family_file
from sailir.identities import derive_identities

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "python/sailir/data/families"

TADPOLE = """\
sailir-family 3
name tadpole
hash {hash}
identities-version 1
propagators 1
propagator 1 k^2-msq
irreducible
symbols d msq
one -
point d=41 msq=7
masters 0
templates 1
template IBP k k 2
term 0 2
mono -2 1,0,0
mono 1 0,1,0
term 1 1
mono -2 1,0,1
symmetries 0 externals
"""


def test_tadpole_file_text() -> None:
    family = load_family("tadpole")
    text = render_family_file(family, derive_identities(family))
    body = TADPOLE.format(hash=family_hash(family))
    assert text == body + f"checksum {familyfile.checksum(body)}\nend\n"


def test_checksum_is_fnv1a_64() -> None:
    # Published FNV-1a test vectors.
    assert familyfile.checksum("") == "cbf29ce484222325"
    assert familyfile.checksum("a") == "af63dc4c8601ec8c"
    assert familyfile.checksum("foobar") == "85944171f73967e8"


def test_trianglebox_file_header() -> None:
    lines = (DATA / "trianglebox.sfam").read_text().splitlines()
    assert lines[:5] == [
        "sailir-family 3",
        "name trianglebox",
        lines[2],
        "identities-version 1",
        "propagators 7",
    ]
    assert lines[5:12] == [
        "propagator 1 k1^2", "propagator 2 k2^2", "propagator 3 (k1+k2)^2", "propagator 4 (k1+p1)^2",
        "propagator 5 (k2+p3)^2", "propagator 6 (k2-p1)^2", "propagator 7 (k1+p3)^2",
    ]  # fmt: skip
    assert lines[12:17] == [
        "irreducible 7",
        "symbols d m1 m2 m3",
        "one m1",
        "point d=41 m1=1 m2=31 m3=47",
        "masters 16",
    ]
    assert lines[17] == "I[0,1,1,1,0,0,0]" and lines[33] == "templates 9" and lines[-1] == "end"
    assert lines[-2].startswith("checksum ")
    assert sum(int(ln.split()[-1]) for ln in lines if ln.startswith("template ")) == 109


def test_packaged_files_are_up_to_date(tmp_path: Path) -> None:
    written = regenerate_builtins(tmp_path)
    assert [p.name for p in written] == [f"{n}.sfam" for n in builtin_names()]
    for path in written:
        assert path.read_bytes() == (DATA / path.name).read_bytes(), f"regenerate {path.name}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("SAILIR_CACHE", str(directory))
    return directory


def _no_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(_family: object) -> None:
        raise AssertionError("templates were derived again")

    monkeypatch.setattr(familyfile, "derive_identities", fail)


def test_compile_builtin_uses_packaged_templates(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_sympy(monkeypatch)
    path = compile_family("trianglebox")
    assert path == cache / f"{family_hash(load_family('trianglebox'))}.sfam"
    assert path.read_bytes() == (DATA / "trianglebox.sfam").read_bytes()
    mtime = path.stat().st_mtime_ns
    assert compile_family("trianglebox") == path and path.stat().st_mtime_ns == mtime
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_compile_yaml_with_other_point_rewrites_the_header(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load((DATA / "trianglebox.yaml").read_text())
    data.update(name="tb2", point={"d": "9/2", "m1": 1, "m2": 3, "m3": 5})
    source = tmp_path / "tb2.yaml"
    source.write_text(yaml.safe_dump(data))
    first = compile_family("trianglebox")
    _no_sympy(monkeypatch)
    second = compile_family(str(source))
    assert second == first
    text = second.read_text()
    assert "name tb2\n" in text and "point d=9/2 m1=1 m2=3 m3=5\n" in text
    packaged = (DATA / "trianglebox.sfam").read_text()

    def templates(t: str) -> str:
        return t[t.index("templates ") : t.index("checksum ")]

    assert templates(text) == templates(packaged)


def test_compile_derives_when_nothing_is_cached(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "bubble.yaml"
    source.write_text((DATA / "bubble.yaml").read_text())
    path = compile_family(str(source))
    assert path.read_bytes() == (DATA / "bubble.sfam").read_bytes()


def test_stale_symmetries_are_found_again(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached file whose symmetries an older search found (no `externals` on its line) keeps its
    templates and gets its symmetries found again, equal to a fresh file's."""
    fresh = compile_family("trianglebox").read_text()
    stale = fresh.replace(" externals\n", "\n", 1)
    assert stale != fresh
    path = cache / f"{family_hash(load_family('trianglebox'))}.sfam"
    path.write_text(familyfile._sealed(stale[: stale.rindex("checksum ")]))
    _no_sympy(monkeypatch)
    assert compile_family("trianglebox").read_text() == fresh


def test_compile_main(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert compile_main(["tadpole"]) == 0
    out = capsys.readouterr().out.strip()
    assert Path(out).read_text().startswith("sailir-family 3\nname tadpole\n")
    assert compile_main(["no-such-family"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sailir: error: unknown family 'no-such-family': not a built-in")
    assert err.count("\n") == 1


def test_compile_module_entry_point(cache: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT / "python") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "sailir.compile", "bubble"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == cache


def test_corrupt_cache_file_is_rebuilt(cache: Path) -> None:
    path = compile_family("tadpole")
    good = path.read_text()
    path.write_text(good.replace("mono -2 1,0,1", "mono -3 1,0,1"))  # one changed digit
    assert compile_family("tadpole") == path
    assert path.read_text() == good


def test_engine_refuses_a_corrupt_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "tadpole.sfam"
    corrupt.write_text((DATA / "tadpole.sfam").read_text().replace("mono -2 1,0,1", "mono -3 1,0,1"))
    reduce = Path(sys.executable).parent / "sailir-reduce"
    proc = subprocess.run([str(reduce), "--family", str(corrupt), "I[2]"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"sailir-reduce: error: compiled family {corrupt} is corrupt (checksum mismatch); recompile it\n"
    )
