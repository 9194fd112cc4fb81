"""The policy classifier: scores every candidate action of a state; trained with cross-entropy
over the valid set.

Permutation-invariant over expression terms (no positional encoding; masked mean pooling and
attention only). The state is a target token plus pooled encodings of the expression terms and
of the substitution table; each candidate action (op embedding + features, which carry the
seed offset delta) attends to the expression terms and is scored against the state. Sized for
the CPU: a beam step of 20 states x 150 actions x 50 terms is about 16 M multiply-adds at width
32 with attention width 16, when a runtime applies the state's part of the head's first layer
once per state (it is linear).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

INPUTS = ("target", "terms", "terms_mask", "table", "table_mask", "ops", "actions", "actions_mask")
MASKED = -1.0e9  # logit of a padding action


@dataclass(frozen=True)
class PolicyConfig:
    target_dim: int
    term_dim: int
    table_dim: int
    action_dim: int
    ops: int
    width: int = 32
    attention: int = 16  # query/key/value width of the action-to-term attention

    def to_dict(self) -> dict:
        return asdict(self)


def _mlp(inp: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inp, width), nn.ReLU(), nn.Linear(width, width))


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class PolicyNet(nn.Module):
    def __init__(self, cfg: PolicyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.term_enc = _mlp(cfg.term_dim, w)
        self.table_enc = _mlp(cfg.table_dim, w)
        self.target_enc = _mlp(cfg.target_dim, w)
        self.state_norm = nn.LayerNorm(w)
        self.op_emb = nn.Embedding(cfg.ops, w)
        self.action_enc = _mlp(cfg.action_dim, w)
        self.query = nn.Linear(w, cfg.attention)
        self.key = nn.Linear(w, cfg.attention)
        self.value = nn.Linear(w, cfg.attention)
        self.head = nn.Sequential(nn.Linear(2 * w + cfg.attention, w), nn.ReLU(), nn.Linear(w, 1))

    def forward(
        self,
        target: torch.Tensor,  # [B, Fg]
        terms: torch.Tensor,  # [B, T, Ft]
        terms_mask: torch.Tensor,  # [B, T]
        table: torch.Tensor,  # [B, K, Fk]
        table_mask: torch.Tensor,  # [B, K]
        ops: torch.Tensor,  # [B, A] int64
        actions: torch.Tensor,  # [B, A, Fa]
        actions_mask: torch.Tensor,  # [B, A]
    ) -> torch.Tensor:  # logits [B, A]
        t = self.term_enc(terms)
        state = self.state_norm(
            self.target_enc(target)
            + _masked_mean(t, terms_mask)
            + _masked_mean(self.table_enc(table), table_mask)
        )
        a = self.action_enc(actions) + self.op_emb(ops)
        scores = torch.matmul(self.query(a), self.key(t).transpose(1, 2)) / math.sqrt(self.cfg.attention)
        scores = torch.where(terms_mask.unsqueeze(1) > 0, scores, torch.full_like(scores, MASKED))
        ctx = torch.matmul(torch.softmax(scores, dim=-1), self.value(t))
        h = torch.cat([a, ctx, state.unsqueeze(1).expand_as(a)], dim=-1)
        logits = self.head(h).squeeze(-1)
        return torch.where(actions_mask > 0, logits, torch.full_like(logits, MASKED))


def random_batch(cfg: PolicyConfig, states: int, terms: int, table: int, actions: int, seed: int = 0) -> dict:
    """Inputs of the right shapes and types with random features (for tracing and timing)."""
    rng = np.random.default_rng(seed)
    f = np.float32
    return {
        "target": rng.normal(size=(states, cfg.target_dim)).astype(f),
        "terms": rng.normal(size=(states, terms, cfg.term_dim)).astype(f),
        "terms_mask": np.ones((states, terms), f),
        "table": rng.normal(size=(states, table, cfg.table_dim)).astype(f),
        "table_mask": np.ones((states, table), f),
        "ops": rng.integers(0, cfg.ops, size=(states, actions)),
        "actions": rng.normal(size=(states, actions, cfg.action_dim)).astype(f),
        "actions_mask": np.ones((states, actions), f),
    }


def tensors(batch: dict) -> list[torch.Tensor]:
    """The model inputs of a NumPy batch, in forward() order."""
    return [torch.from_numpy(batch[k]) for k in INPUTS]
