"""The shared-context predictor graph of a LeWM-family model (models/README.md, "Shared context").

In a plan every candidate's window starts with the same observed frames and executed actions. The predictor is causal
over the window, so those leading positions' activations (their keys and values at every layer) are the same for all
candidates. This graph takes them once, at batch 1, and the candidates' own positions at batch B, and gives only the
window's last position, the one a rollout reads:

  context_latents [1, P, L], context_actions [1, P, A], latents [B, T, L], actions [B, T, A]  ->  next_latents [B, 1, L]

equal to the plain predictor on the window cat(context, candidate) (P >= 0, T >= 1, P + T <= history) at its last
position. The last block runs its query, attention output and MLP for that position alone (the others give only keys
and values), and the head runs once per candidate. The candidates' queries meet the context keys and values by
broadcast elementwise products ([B, T, 1, h, hd] x [1, 1, P, h, hd], summed over hd), so nothing is repeated B times.
Positions keep their place in the window: the context takes position embeddings 0..P-1, the candidates P..P+T-1.
P = 0 (a window of predicted frames only) runs the same graph with an empty context.

One forward for the three LeWM-family predictors robotctl makes or imports; `_Family` says where each keeps its parts:
  arch.LewmPredictor (make_models), training.workcell_model.WorkcellPredictor, lewm_import.PredictorGraph (the authors'
  LeWM through lewm_modules).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import arch

FILE = "predictor.shared.onnx"
INPUTS = ["context_latents", "context_actions", "latents", "actions"]
OUTPUT = "next_latents"


class _Family:
    """The parts of one LeWM-family predictor: condition(actions), tokens(latents, positions), blocks, head(x).
    Told apart by their parts, not their classes: lewm_import runs as __main__, where PredictorGraph is another class."""

    def __init__(self, predictor: nn.Module):
        self.residual = bool(getattr(predictor, "residual", False))       # next = last latent + head (workcell option)
        if hasattr(predictor, "gather_actions"):                           # lewm_import.PredictorGraph
            lewm = predictor.model
            inner = lewm.predictor
            self.positions = lambda: inner.pos_embedding[0]                 # [F, D]
            self.condition = lambda a: inner.transformer.cond_proj(lewm.action_encoder(predictor.gather_actions(a)))
            self.tokens = lambda x, pos: inner.transformer.input_proj(x + pos)
            self.blocks = [_Block(b.adaLN_modulation, b.norm1, b.norm2, b.mlp, b.attn, b.attn.to_out)
                           for b in inner.transformer.layers]
            self.head = lambda x: lewm.pred_proj(inner.transformer.output_proj(inner.transformer.norm(x)))
            self.history = inner.num_frames
        elif all(hasattr(predictor, part) for part in ("action_encoder", "pos", "blocks", "norm")):
            workcell = hasattr(predictor, "inp")                            # WorkcellPredictor, else arch.LewmPredictor
            self.positions = lambda: predictor.pos
            self.condition = predictor.action_encoder
            self.tokens = (lambda x, pos: predictor.inp(x) + pos) if workcell else (lambda x, pos: x + pos)
            self.blocks = [_Block(b.modulation, b.norm1, b.norm2, b.mlp, b.attn, b.attn.out)
                           for b in predictor.blocks]
            head = predictor.head if workcell else predictor.projector
            self.head = lambda x: head(predictor.norm(x))
            self.history = predictor.pos.shape[0]
        else:
            raise TypeError(f"{type(predictor).__name__} is not a LeWM-family predictor this graph knows")


class _Block:
    """An AdaLN-zero block's parts; attn (an arch.HeadProjection: arch.Attention, lewm_modules.Attention) gives its
    q, k, v per head."""

    def __init__(self, modulation, norm1, norm2, mlp, attn, out):
        self.modulation, self.norm1, self.norm2, self.mlp, self.attn, self.out = modulation, norm1, norm2, mlp, attn, out
        self.inner = attn.heads * attn.head_size


# Attention over a window of a few frames, written as elementwise products summed over the head dimension rather than
# MatMul: at 300 candidates x 16 heads a MatMul is 4,800 products of [T, 64] x [64, P] (T, P <= 3), each paying a
# kernel call for ~400 multiply-adds, which made the attention of the shared graph cost more than the positions it
# saved; Mul + ReduceSum runs the same arithmetic as a few long vector loops. Heads stay in the token layout
# [B, L, heads, head_dim] throughout, so no head split or merge moves memory (a Transpose each, 4 % of the graph's time).

def _dots(q: torch.Tensor, k: torch.Tensor, scale: float, bias: torch.Tensor | None = None) -> torch.Tensor:
    """q [B, T, h, hd], k [1 or B, S, h, hd] -> scaled q.k [B, T, S, h] (+ bias [T, S])."""
    scores = (q.unsqueeze(2) * k.unsqueeze(1)).sum(dim=-1) * scale
    return scores if bias is None else scores + bias.unsqueeze(-1)


def _weigh(w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """w [B, T, S, h], v [1 or B, S, h, hd] -> sum over S of w v: [B, T, h, hd]."""
    return (w.unsqueeze(-1) * v.unsqueeze(1)).sum(dim=2)


def _attend_context(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, bias: torch.Tensor) -> torch.Tensor:
    """The context's causal self-attention, [1, P, h, hd] each -> [1, P, h, hd], as MatMul over [1, h, P, hd]."""
    q, k, v = (x.transpose(1, 2) for x in (q, k, v))
    return torch.matmul((torch.matmul(q, k.transpose(-2, -1)) * scale + bias).softmax(dim=-1), v).transpose(1, 2)


def _window(context: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
    """The window's keys or values [B, P + T, h, hd]: the context's [1, P, h, hd] for every candidate, then its own
    [B, T, h, hd]. (Summing context and own attention separately would sum over an empty axis at P = 0, which ONNX
    Runtime's ReduceSum does not give as zeros; a copy of P rows per candidate is small beside the products.)"""
    return torch.cat([context.expand(own.shape[0], -1, -1, -1), own], dim=1)


def _merge(y: torch.Tensor, inner: int) -> torch.Tensor:
    """[B, L, heads, head_dim] -> [B, L, inner = heads*head_dim] (no -1: L may be 0, and ONNX Runtime cannot infer a
    dimension of an empty tensor)."""
    return y.reshape(y.shape[0], y.shape[1], inner)


class SharedContextPredictor(nn.Module):
    """The shared-context graph over a LeWM-family predictor (weights shared with it, nothing copied)."""

    def __init__(self, predictor: nn.Module):
        super().__init__()
        self.inner = predictor
        self.family = _Family(predictor)
        self.register_buffer("mask", arch.causal_bias(self.family.history), persistent=False)

    def forward(self, context_latents, context_actions, latents, actions):
        f = self.family
        p, t = context_latents.shape[1], latents.shape[1]
        positions = f.positions()[: p + t]
        xp, xc = f.tokens(context_latents, positions[:p]), f.tokens(latents, positions[p:])
        # The AdaLN modulation's SiLU of the condition, once for every block (an int8 graph then quantises it once).
        hp, hc = (f.blocks[0].modulation[0](f.condition(a)) for a in (context_actions, actions))
        for block in f.blocks[:-1]:
            xp, xc = self._block(block, xp, hp, xc, hc, p, t)
        out = f.head(self._last_block(f.blocks[-1], xp, hp, xc, hc))
        # A residual predictor (WorkcellPredictor with residual) adds the window's last latent, the candidate's own.
        return latents[:, -1:] + out if f.residual else out

    def _block(self, b: _Block, xp, hp, xc, hc, p, t):
        sh1p, sc1p, g1p, sh2p, sc2p, g2p = _modulation(b.modulation, hp, range(6))
        sh1c, sc1c, g1c, sh2c, sc2c, g2c = _modulation(b.modulation, hc, range(6))
        qp, kp, vp = b.attn.project_tokens(b.norm1(xp) * (1 + sc1p) + sh1p)       # [1, P, h, hd]
        qc, kc, vc = b.attn.project_tokens(b.norm1(xc) * (1 + sc1c) + sh1c)       # [B, T, h, hd]
        scale = b.attn.scale
        # Context positions see the context only (causal), as in the plain window. At batch 1 as MatMul: its elementwise
        # form would reduce an empty tensor at P = 0, which ONNX Runtime's ReduceSum does not shape as asked.
        yp = _attend_context(qp, kp, vp, scale, self.mask[:p, :p])
        # A candidate position sees every context position and the candidate's own positions up to itself: the plain
        # window's mask rows P..P+T-1 over keys and values that start with the context's.
        yc = _weigh(_dots(qc, _window(kp, kc), scale, self.mask[p:p + t, :p + t]).softmax(dim=2), _window(vp, vc))
        xp = xp + g1p * b.out(_merge(yp, b.inner))
        xc = xc + g1c * b.out(_merge(yc, b.inner))
        xp = xp + g2p * b.mlp(b.norm2(xp) * (1 + sc2p) + sh2p)
        xc = xc + g2c * b.mlp(b.norm2(xc) * (1 + sc2c) + sh2c)
        return xp, xc

    def _last_block(self, b: _Block, xp, hp, xc, hc):
        """The last block for the window's last position only (the rollout reads no other): every position gives its
        key and value, only the last its query, attention output and MLP. -> [B, 1, width]"""
        attn = b.attn
        sh1p, sc1p = _modulation(b.modulation, hp, range(2))
        sh1c, sc1c = _modulation(b.modulation, hc, range(2))
        g1c, sh2c, sc2c, g2c = _modulation(b.modulation, hc[:, -1:], range(2, 6))
        ap = attn.prepare(b.norm1(xp) * (1 + sc1p) + sh1p)
        ac = attn.prepare(b.norm1(xc) * (1 + sc1c) + sh1c)
        k = _window(attn.project_part(ap, 1), attn.project_part(ac, 1))
        v = _window(attn.project_part(ap, 2), attn.project_part(ac, 2))
        q = attn.project_part(ac[:, -1:], 0)
        # The last position sees the whole window: no mask.
        x = xc[:, -1:]
        x = x + g1c * b.out(_merge(_weigh(_dots(q, k, attn.scale).softmax(dim=2), v), b.inner))
        return x + g2c * b.mlp(b.norm2(x) * (1 + sc2c) + sh2c)


def _modulation(modulation: nn.Module, h: torch.Tensor, parts) -> list:
    """AdaLN-zero modulation (SiLU, then Linear to 6 x width: shift1, scale1, gate1, shift2, scale2, gate2) of a
    condition whose SiLU is h, only the chunks `parts`, each from its rows of the Linear: no split copies them, and the
    last block computes only the chunks each position needs."""
    linear = modulation[1]
    width = linear.out_features // 6
    return [F.linear(h, linear.weight[i * width:(i + 1) * width], linear.bias[i * width:(i + 1) * width]) for i in parts]


def check_equal(predictor: nn.Module, shared: SharedContextPredictor, latent_shape, action_size: int,
                batch: int = 3, tol: float = 1e-5) -> float:
    """Max |shared - plain| / max |plain| at the window's last position, over every split of every window (P >= 0
    shared, T >= 1 own, P + T <= history); raises past tol."""
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    history = shared.family.history
    with torch.no_grad():
        for window in range(1, history + 1):
            latents = torch.randn(batch, window, *latent_shape, generator=g)
            actions = torch.randn(batch, window, action_size, generator=g)
            for p in range(0, window):
                latents[:, :p] = latents[:1, :p]
                actions[:, :p] = actions[:1, :p]
                plain = predictor(latents, actions)[:, -1:]
                mine = shared(latents[:1, :p], actions[:1, :p], latents[:, p:], actions[:, p:])
                error = float((mine - plain).abs().max() / plain.abs().max().clamp_min(1e-12))
                if not error <= tol:
                    raise RuntimeError(f"shared-context graph differs from the predictor at window {window}, "
                                       f"{p} shared: relative error {error:.3g} > {tol:g}")
                worst = max(worst, error)
    return worst


def flops_per_sample(shared: SharedContextPredictor, latent_shape, action_size: int) -> dict:
    """{"P+T": FLOPs per candidate} of every split the rollout runs (P >= 0 shared, T >= 1 own, P + T <= history): the
    dense products (every linear map, nn.Linear or F.linear on a slice of its weight: 2 x in x out per row) at batch 2
    less batch 1, so the batch-1 context positions, paid once per call, are not counted per candidate. Attention's own
    products (~0.3 % at a 3-frame window) are left out, as the plain predictor's count nearly does."""
    total = [0]
    linear = F.linear

    def counting(x, weight, bias=None):
        total[0] += 2 * weight.shape[0] * weight.shape[1] * (x.numel() // max(1, x.shape[-1]))
        return linear(x, weight, bias)

    result = {}
    F.linear = counting   # nn.Linear calls it too
    try:
        with torch.no_grad():
            for window in range(1, shared.family.history + 1):
                for p in range(window):
                    runs = []
                    for batch in (1, 2):
                        total[0] = 0
                        shared(torch.zeros(1, p, *latent_shape), torch.zeros(1, p, action_size),
                               torch.zeros(batch, window - p, *latent_shape), torch.zeros(batch, window - p, action_size))
                        runs.append(total[0])
                    result[f"{p}+{window - p}"] = runs[1] - runs[0]
    finally:
        F.linear = linear
    return result


def trace_args(latent_shape, action_size: int) -> tuple:
    """The inputs the graph is traced with, P=1, T=2, B=3: every axis a different size, so none is frozen into the
    graph by a coincidence."""
    return (torch.zeros(1, 1, *latent_shape), torch.zeros(1, 1, action_size),
            torch.zeros(3, 2, *latent_shape), torch.zeros(3, 2, action_size))


def dynamic_axes(output_time: bool = False) -> dict:
    """The graph's dynamic axes; `output_time` for a graph that gives every candidate position (the contract before
    2026-12-07, kept as a broken fixture)."""
    return {"context_latents": {1: "context"}, "context_actions": {1: "context"},
            "latents": {0: "batch", 1: "time"}, "actions": {0: "batch", 1: "time"},
            OUTPUT: {0: "batch", 1: "time"} if output_time else {0: "batch"}}


def export(predictor: nn.Module, latent_shape, action_size: int, path, export_fn) -> float:
    """Checks the shared graph against the predictor in PyTorch, then exports it with `export_fn(module, args, path,
    inputs, outputs, axes)` (the caller's exporter: make_models or lewm_import), and records its FLOPs per candidate
    for every split in the model.json beside it (flops.shared_context_per_sample, read by `robotctl model bench`).
    Returns the PyTorch check's error."""
    shared = SharedContextPredictor(predictor).eval()
    error = check_equal(predictor, shared, latent_shape, action_size)
    export_fn(shared, trace_args(latent_shape, action_size), path, INPUTS, [OUTPUT], dynamic_axes())
    manifest = Path(path).parent / "model.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        data.setdefault("flops", {})["shared_context_per_sample"] = flops_per_sample(shared, latent_shape, action_size)
        from .make_models import write_json   # here: make_models imports this module
        write_json(manifest, data)
    return error


def manifest_entry() -> dict:
    """model.json predictor.shared_context."""
    return {"file": FILE, "context_latents": INPUTS[0], "context_actions": INPUTS[1]}
