"""The shared-context predictor graph of a LeWM-family model (models/README.md, "Shared context").

In a plan every candidate's window starts with the same observed frames and executed actions. The predictor is causal
over the window, so those leading positions' activations (their keys and values at every layer) are the same for all
candidates. This graph takes them once, at batch 1, and the candidates' own positions at batch B:

  context_latents [1, P, L], context_actions [1, P, A], latents [B, T, L], actions [B, T, A]  ->  next_latents [B, T, L]

equal to the plain predictor on the window cat(context, candidate) (P + T <= history) at its last T positions. The
candidates' queries meet the context keys and values by broadcast elementwise products ([B, h, T, 1, hd] x
[1, h, 1, P, hd], summed over hd), so nothing is repeated B times. Positions keep their place in the window: the context takes position embeddings 0..P-1, the
candidates P..P+T-1.

One forward for the three LeWM-family predictors robotctl makes or imports; `_Family` says where each keeps its parts:
  arch.LewmPredictor (make_models), training.workcell_model.WorkcellPredictor, lewm_import.PredictorGraph (the authors'
  LeWM through lewm_modules).
"""
from __future__ import annotations

import torch
from torch import nn

from . import arch

FILE = "predictor.shared.onnx"
INPUTS = ["context_latents", "context_actions", "latents", "actions"]
OUTPUT = "next_latents"


class _Family:
    """The parts of one LeWM-family predictor: condition(actions), tokens(latents, positions), blocks, head(x).
    Told apart by their parts, not their classes: lewm_import runs as __main__, where PredictorGraph is another class."""

    def __init__(self, predictor: nn.Module):
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
    """An AdaLN-zero block's parts; attn.project(x) gives its q, k, v per head (arch.Attention, lewm_modules.Attention)."""

    def __init__(self, modulation, norm1, norm2, mlp, attn, out):
        self.modulation, self.norm1, self.norm2, self.mlp, self.attn, self.out = modulation, norm1, norm2, mlp, attn, out


# Attention over a window of a few frames, written as elementwise products summed over the head dimension rather than
# MatMul: at 300 candidates x 16 heads a MatMul is 4,800 products of [T, 64] x [64, P] (T, P <= 3), each paying a
# kernel call for ~400 multiply-adds, which made the attention of the shared graph cost more than the positions it
# saved; Mul + ReduceSum runs the same arithmetic as a few long vector loops.

def _dots(q: torch.Tensor, k: torch.Tensor, scale: float, bias: torch.Tensor | None = None) -> torch.Tensor:
    """q [B, h, T, hd], k [1 or B, h, S, hd] -> scaled q.k [B, h, T, S] (+ bias [T, S])."""
    scores = (q.unsqueeze(3) * k.unsqueeze(2)).sum(dim=-1) * scale
    return scores if bias is None else scores + bias


def _weigh(w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """w [B, h, T, S], v [1 or B, h, S, hd] -> sum over S of w v: [B, h, T, hd]."""
    return (w.unsqueeze(-1) * v.unsqueeze(2)).sum(dim=3)


def _merge(y: torch.Tensor) -> torch.Tensor:
    """[B, heads, L, head_dim] -> [B, L, heads*head_dim]."""
    return y.transpose(1, 2).reshape(-1, y.shape[2], y.shape[1] * y.shape[3])


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
        cp, cc = f.condition(context_actions), f.condition(actions)
        for block in f.blocks:
            xp, xc = self._block(block, xp, cp, xc, cc, p, t)
        return f.head(xc)

    def _block(self, b: _Block, xp, cp, xc, cc, p, t):
        sh1p, sc1p, g1p, sh2p, sc2p, g2p = b.modulation(cp).chunk(6, dim=-1)
        sh1c, sc1c, g1c, sh2c, sc2c, g2c = b.modulation(cc).chunk(6, dim=-1)
        qp, kp, vp = b.attn.project(b.norm1(xp) * (1 + sc1p) + sh1p)       # [1, h, P, hd]
        qc, kc, vc = b.attn.project(b.norm1(xc) * (1 + sc1c) + sh1c)       # [B, h, T, hd]
        scale = b.attn.scale
        # Context positions see the context only (causal), as in the plain window.
        yp = _weigh(_dots(qp, kp, scale, self.mask[:p, :p]).softmax(dim=-1), vp)
        # A candidate position sees every context position and the candidate's own positions up to itself.
        scores = torch.cat([_dots(qc, kp, scale), _dots(qc, kc, scale, self.mask[:t, :t])], dim=-1).softmax(dim=-1)
        yc = _weigh(scores[..., :p], vp) + _weigh(scores[..., p:], vc)
        xp = xp + g1p * b.out(_merge(yp))
        xc = xc + g1c * b.out(_merge(yc))
        xp = xp + g2p * b.mlp(b.norm2(xp) * (1 + sc2p) + sh2p)
        xc = xc + g2c * b.mlp(b.norm2(xc) * (1 + sc2c) + sh2c)
        return xp, xc


def check_equal(predictor: nn.Module, shared: SharedContextPredictor, latent_shape, action_size: int,
                batch: int = 3, tol: float = 1e-5) -> float:
    """Max |shared - plain| / max |plain| over every split of every window (P >= 1, P + T <= history); raises past tol."""
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    history = shared.family.history
    with torch.no_grad():
        for window in range(2, history + 1):
            latents = torch.randn(batch, window, *latent_shape, generator=g)
            actions = torch.randn(batch, window, action_size, generator=g)
            for p in range(1, window):
                latents[:, :p] = latents[:1, :p]
                actions[:, :p] = actions[:1, :p]
                plain = predictor(latents, actions)[:, p:]
                mine = shared(latents[:1, :p], actions[:1, :p], latents[:, p:], actions[:, p:])
                error = float((mine - plain).abs().max() / plain.abs().max().clamp_min(1e-12))
                if not error <= tol:
                    raise RuntimeError(f"shared-context graph differs from the predictor at window {window}, "
                                       f"{p} shared: relative error {error:.3g} > {tol:g}")
                worst = max(worst, error)
    return worst


def export(predictor: nn.Module, latent_shape, action_size: int, path, export_fn) -> float:
    """Checks the shared graph against the predictor in PyTorch, then exports it with `export_fn(module, args, path,
    inputs, outputs, axes)` (the caller's exporter: make_models or lewm_import). Returns the PyTorch check's error."""
    shared = SharedContextPredictor(predictor).eval()
    error = check_equal(predictor, shared, latent_shape, action_size)
    # Traced at P=1, T=2, B=3: every axis a different size, so none is frozen into the graph by a coincidence.
    args = (torch.zeros(1, 1, *latent_shape), torch.zeros(1, 1, action_size),
            torch.zeros(3, 2, *latent_shape), torch.zeros(3, 2, action_size))
    axes = {"context_latents": {1: "context"}, "context_actions": {1: "context"},
            "latents": {0: "batch", 1: "time"}, "actions": {0: "batch", 1: "time"}, OUTPUT: {0: "batch", 1: "time"}}
    export_fn(shared, args, path, INPUTS, [OUTPUT], axes)
    return error


def manifest_entry() -> dict:
    """model.json predictor.shared_context."""
    return {"file": FILE, "context_latents": INPUTS[0], "context_actions": INPUTS[1]}
