"""The policy file contract: an ONNX graph (inputs ``model.INPUTS``, output ``logits``; batch,
term, table and action axes dynamic) whose initializers are the named PyTorch parameters, and
whose metadata carries everything a loader must compare before use: family content hash,
identity-set version, feature version and definition, the prime the features were made at,
dimensions and the model configuration."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

FORMAT = "sailir-policy"
FORMAT_VERSION = 1
_POLICIES = Path(__file__).resolve().parent.parent / "data" / "policies"


class PolicyError(ValueError):
    """A policy file that is unreadable or does not fit the family it is used with."""


def shipped_policy(family_name: str, family_hash: str | None = None) -> Path | None:
    """The policy that ships with the package for a family, if any: the one whose metadata names
    the family's content hash (as the engine finds it), else the one named after the family."""
    if family_hash is not None:
        import onnx

        for path in sorted(_POLICIES.glob("*.onnx")):
            meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
            if meta.get("family_hash") == family_hash:
                return path
    path = _POLICIES / f"{family_name}.onnx"
    return path if path.is_file() else None


def export(model, family_meta: dict, path: Path, example: dict, extra: dict | None = None) -> dict:
    """Writes `model` to `path` as ONNX with metadata; checked with onnx.checker. Returns the
    metadata."""
    import onnx
    import torch

    from .model import INPUTS, tensors

    model.eval()
    dynamic = {
        "target": {0: "batch"},
        "ops": {0: "batch", 1: "actions"},
        "logits": {0: "batch", 1: "actions"},
    }
    for part, axis in (("terms", "terms"), ("table", "table"), ("actions", "actions")):
        dynamic[part] = {0: "batch", 1: axis}
        dynamic[f"{part}_mask"] = {0: "batch", 1: axis}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in torch 2.9+ but still the one that needs no
        # extra package (onnxscript) and keeps parameter names; its notice is noise here.
        warnings.simplefilter("ignore", DeprecationWarning)
        # Constant folding would rename transposed weights; without it every initializer keeps
        # its parameter name, which is how loaders find the weights.
        torch.onnx.export(
            model,
            tuple(tensors(example)),
            str(tmp),
            input_names=list(INPUTS),
            output_names=["logits"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
            do_constant_folding=False,
        )
    proto = onnx.load(str(tmp))
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "architecture": "sailir-policy-net-1",
        "config": json.dumps(model.cfg.to_dict(), sort_keys=True),
        **{k: (v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in family_meta.items()},
        **{k: json.dumps(v, sort_keys=True) for k, v in (extra or {}).items()},
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = f"sailir.{k}", v
    onnx.checker.check_model(proto)
    onnx.save(proto, str(tmp))
    os.replace(tmp, path)
    return meta


def set_metadata(path: Path, updates: dict[str, str]) -> None:
    """Sets sailir.* properties of a policy file in place (written atomically), e.g.
    ``{"ranking": "policy"}`` for a policy that ranks candidates alone."""
    import onnx

    path = Path(path)
    read_metadata(path)  # a sailir policy, or PolicyError
    proto = onnx.load(str(path))
    keep = [(p.key, p.value) for p in proto.metadata_props if p.key[len("sailir.") :] not in updates]
    del proto.metadata_props[:]
    for k, v in keep + [(f"sailir.{k}", v) for k, v in updates.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(proto)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(proto, str(tmp))
    os.replace(tmp, path)


def read_metadata(path: Path) -> dict:
    """The sailir metadata of a policy file (strings), or PolicyError."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"policy file {path} does not exist")
    try:
        proto = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - onnx raises many kinds on garbage
        raise PolicyError(f"policy file {path} is not a readable ONNX model ({type(exc).__name__})") from exc
    meta = {p.key[len("sailir.") :]: p.value for p in proto.metadata_props if p.key.startswith("sailir.")}
    if meta.get("format") != FORMAT:
        raise PolicyError(f"{path} is an ONNX model but not a sailir policy (no sailir metadata)")
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise PolicyError(
            f"policy file {path} has format version {meta.get('format_version')}, expected {FORMAT_VERSION}"
        )
    meta["_weights"] = {init.name: init for init in proto.graph.initializer}
    return meta


def check_compatible(meta: dict, family_meta: dict, path: Path) -> None:
    """Refuses a policy made for another family, identity set or feature definition. The
    features read no coefficient values (only whether sums vanish), so the prime they were made
    at is recorded but a policy serves any 63-bit prime."""
    if meta.get("family_hash") != family_meta["family_hash"]:
        raise PolicyError(
            f"policy {path} was exported for family {meta.get('family')!r} "
            f"(hash {meta.get('family_hash', '?')[:12]}),"
            f" not for {family_meta['family']!r} (hash {family_meta['family_hash'][:12]})"
        )
    for key in ("identities_version", "features_version", "feature_spec"):
        want = family_meta[key] if isinstance(family_meta[key], str) else json.dumps(family_meta[key])
        if meta.get(key) != want:
            raise PolicyError(
                f"policy {path} was made with another {key.replace('_', ' ')} ({meta.get(key)} != {want})"
            )


def load(path: Path, family_meta: dict):
    """The PyTorch model of a policy file, after the compatibility checks."""
    import torch
    from onnx import numpy_helper

    from .model import PolicyConfig, PolicyNet

    meta = read_metadata(path)
    check_compatible(meta, family_meta, Path(path))
    model = PolicyNet(PolicyConfig(**json.loads(meta["config"])))
    weights = meta["_weights"]
    state = {}
    for name in model.state_dict():
        if name not in weights:
            raise PolicyError(f"policy file {path} lacks the weight {name}")
        state[name] = torch.from_numpy(np.array(numpy_helper.to_array(weights[name]), dtype=np.float32))
    model.load_state_dict(state)
    model.eval()
    return model
