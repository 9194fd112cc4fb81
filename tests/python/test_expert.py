"""Expert iteration: the engine's own paths as labelled samples (C++), the training integrals,
and one small round of `sailir improve` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sailir import _core, family_file
from sailir.policy import expert, shards

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pf() -> _core.PolicyFamily:
    return _core.PolicyFamily(family_file("trianglebox"))


def _check_labels(a: dict) -> None:
    """Every label is one of its sample's candidates, and the candidate row it points at is the
    labelled identity (the feature rows and the labels come from the same replay)."""
    assert int(a["traj_samples"].sum()) == len(a["label"])
    assert np.all((a["label"] >= 0) & (a["label"] < a["n_actions"]))
    starts = np.concatenate([[0], np.cumsum(a["n_actions"])])[:-1]
    assert np.array_equal(a["ops"][starts + a["label"]], a["label_op"])


def test_one_path_gives_a_sample_per_step(pf: _core.PolicyFamily) -> None:
    a, s = _core.expert_samples(pf, ["I[1,1,2,1,1,1,-2]"], [{"ranking": "both"}], max_table_rows=10**6)
    assert s["rollout_failures"] == [0]
    assert s["expert_steps"] == s["rollout_steps"][0] > 0
    assert s["samples"] == s["expert_steps"] == len(a["label"])
    assert s["skipped_samples"] == 0
    _check_labels(a)


def test_the_same_search_from_the_same_state_takes_the_same_steps(pf: _core.PolicyFamily) -> None:
    """Every job is searched again from the state its path carried: with the path's own settings
    the search must find exactly the path's steps (a wrong carried table would change them)."""
    integrals = ["I[1,1,2,1,1,1,-2]", "I[2,1,1,1,1,1,-1]"]
    _, s = _core.expert_samples(pf, integrals, [{"ranking": "both"}] * 2, threads=2, max_table_rows=10**6)
    assert s["rollout_failures"] == [0, 0] and s["jobs"] > 0
    assert s["rollout_steps"][1] == s["rollout_steps"][0] == s["expert_steps"]


def test_each_job_keeps_its_shorter_solution(pf: _core.PolicyFamily) -> None:
    integrals = ["I[1,1,2,1,1,1,-2]", "I[2,1,1,1,1,1,-1]"]
    rollouts = [{"ranking": "both"}, {"ranking": "policy"}, {"policy": "uniform", "ranking": "max"}]
    everything = 10**6
    a, s = _core.expert_samples(pf, integrals, rollouts, threads=2, max_table_rows=everything)
    one, s1 = _core.expert_samples(pf, integrals, rollouts[:1], max_table_rows=everything)
    _check_labels(a)
    assert s["jobs"] == s1["jobs"] and s["rollout_steps"][0] == s1["rollout_steps"][0]
    assert s["samples"] == s["expert_steps"] <= s["rollout_steps"][0]
    for r in (1, 2):
        if s["rollout_failures"][r] == 0:
            assert s["expert_steps"] <= s["rollout_steps"][r]
    # job by job (same jobs in the same order): never more steps than the path's own
    assert np.array_equal(a["expr_powers"], one["expr_powers"])
    assert np.all(a["traj_samples"] <= one["traj_samples"])
    assert s["expert_steps"] < s1["expert_steps"]  # the rollouts found shorter solutions somewhere


def test_the_table_cap_skips_steps_but_applies_them(pf: _core.PolicyFamily) -> None:
    a, s = _core.expert_samples(pf, ["I[1,1,2,1,1,1,-2]"], [{"ranking": "both"}], max_table_rows=40)
    assert s["skipped_samples"] > 0 and s["samples"] + s["skipped_samples"] == s["expert_steps"]
    assert np.all(a["n_table"] <= 40)
    _check_labels(a)


def test_a_foreign_rollout_is_refused(pf: _core.PolicyFamily) -> None:
    with pytest.raises(ValueError, match="ranking"):
        _core.expert_samples(pf, ["I[1,1,1,1,1,1,-1]"], [{"ranking": "sideways"}])
    with pytest.raises(ValueError, match="rollout"):
        _core.expert_samples(pf, ["I[1,1,1,1,1,1,-1]"], [])


def test_training_integrals_avoid_the_benchmark(pf: _core.PolicyFamily) -> None:
    got = expert.training_integrals(pf, 60, seed=5, max_dots=3, max_numerators=3)
    assert len(got) == len(set(got)) == 60
    assert got == expert.training_integrals(pf, 60, seed=5, max_dots=3, max_numerators=3)
    with (ROOT / "tools/benchmark/integrals.csv").open() as f:
        bench = {row["integral"] for row in csv.DictReader(f)}
    assert not bench & set(got)
    for text in got:
        powers = [int(p) for p in text[2:-1].split(",")]
        assert sum(p > 0 for p in powers) == 6  # the top sector: every line of the triangle-box
        assert 1 <= sum(p - 1 for p in powers if p > 0) <= 3 and 1 <= -sum(p for p in powers if p < 0) <= 3


def test_expert_data_is_a_shard_directory(pf: _core.PolicyFamily, tmp_path: Path) -> None:
    policy = Path(_core.__file__).parent / "data/policies/trianglebox.onnx"
    stats = expert.expert_data(pf, policy, ["I[1,1,2,1,1,1,-2]"], tmp_path / "e", 1, 256)
    meta, arrays = shards.load(tmp_path / "e", pf)
    assert meta["expert"]["integrals"] == ["I[1,1,2,1,1,1,-2]"]
    assert len(arrays["label"]) == stats["samples"] > 0
    # complete: a second call reuses it
    (tmp_path / "e" / "shard-00000.npz").touch()
    assert expert.expert_data(pf, policy, ["I[1,1,2,1,1,1,-2]"], tmp_path / "e", 1, 256) == stats


@pytest.mark.slow
def test_improve_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cfg = expert.ImproveConfig(rounds=1, integrals=3, trajectories=120, epochs=1, fine_tune_epochs=1)
    summary = expert.improve("trianglebox", tmp_path, cfg, threads=2, log=lambda *_: None)
    assert [r["round"] for r in summary["rounds"]] == [0, 1]
    assert (tmp_path / "policy.onnx").exists() and isinstance(summary["ranks_alone"], bool)
    assert json.loads((tmp_path / "improve.json").read_text())["integrals"] == summary["integrals"]


def test_improve_refuses_zero_rounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sailir.cli import main

    assert main(["improve", "--out", str(tmp_path / "run"), "--rounds", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--rounds" in err[0]
    assert not (tmp_path / "run").exists()


def test_set_metadata_rewrites_one_key(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from sailir.policy import policy_file

    shipped = Path(_core.__file__).parent / "data/policies/trianglebox.onnx"
    before = policy_file.read_metadata(shipped)
    assert before["ranking"] == "policy"  # the shipped policy ranks alone
    copy = tmp_path / "p.onnx"
    copy.write_bytes(shipped.read_bytes())
    policy_file.set_metadata(copy, {"ranking": "both"})
    after = policy_file.read_metadata(copy)
    assert after["ranking"] == "both"
    assert {k: v for k, v in after.items() if k not in ("ranking", "_weights")} == {
        k: v for k, v in before.items() if k not in ("ranking", "_weights")
    }
    (tmp_path / "x.onnx").write_bytes(b"not a model")
    with pytest.raises(policy_file.PolicyError):
        policy_file.set_metadata(tmp_path / "x.onnx", {"ranking": "policy"})
