"""PyTorch module definitions of the world models robotctl is tested and benchmarked with.

Shared by make_models.py (which exports them to ONNX under the contract in models/README.md) and
torch_cem.py (the PyTorch CEM baseline), so both run exactly the same networks.

Two families:
  * LeWM-shaped ("lewm"): ViT encoder -> CLS token -> projector MLP with BatchNorm1d = one latent vector per
    frame; a transformer predictor over time, causal over frames, conditioned on actions in every block by
    AdaLN-zero, followed by a projector of the same shape.
  * V-JEPA 2-AC-shaped ("vjepa2-ac"): ViT encoder whose layer-normed patch tokens are the latent [N, D]; a
    predictor over per-step token groups [action, state, N patches] with block-causal attention over time.

Export rules (ONNX, dynamic batch B and window length T): nothing is built from traced sizes with factory
functions (torch.ones(T, T) would freeze T into the graph). Masks and position embeddings are buffers for the
maximum history, sliced with [:T] using the input's traced shape; reshapes use -1 for the batch dimension.
Attention is written out (MatMul/Softmax) so the graph uses only standard opset-17 operators.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
import torch.nn.functional as F

# Large negative bias instead of -inf: exp() underflows to exactly 0 in float32 either way, and no runtime
# kernel can turn (-inf) - (-inf) into NaN.
MASKED = -1.0e9

# Std (times 1/sqrt(fan_in)) of the re-randomised AdaLN modulation: big enough that a one-sigma change of the
# actions moves the predicted latent visibly, small enough that gates stay O(1).
ADALN_STD = 2.0


@dataclass(frozen=True)
class LewmConfig:
    image_size: int = 224
    patch: int = 14
    width: int = 192            # encoder width = latent size
    enc_depth: int = 12
    enc_heads: int = 3
    enc_mlp: int = 768
    proj_hidden: int = 2048     # projector MLP d -> proj_hidden -> d (BatchNorm1d on the hidden layer)
    pred_depth: int = 6
    pred_heads: int = 16
    pred_head_dim: int = 64     # attention inner dim = heads * head_dim (1024 in LeWM)
    pred_mlp: int = 2048
    history: int = 3
    action_dim: int = 7
    action_block: int = 5
    action_smooth: int = 10     # Conv1d(k=1) channels of the action encoder
    action_hidden: int = 768

    @property
    def latent_shape(self) -> list[int]:
        return [self.width]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class VjepaConfig:
    image_size: int = 256
    patch: int = 16
    width: int = 1408           # encoder width = latent token size D
    enc_depth: int = 40
    enc_heads: int = 16
    enc_mlp: int = 6144
    pred_width: int = 1024
    pred_depth: int = 24
    pred_heads: int = 16
    pred_mlp: int = 4096
    history: int = 3
    action_dim: int = 7
    action_block: int = 1
    state_dim: int = 7

    @property
    def tokens(self) -> int:
        return (self.image_size // self.patch) ** 2

    @property
    def latent_shape(self) -> list[int]:
        return [self.tokens, self.width]

    def as_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------------- building blocks

def pointwise(conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """A kernel-1 Conv1d over the feature axis of x [B, T, in] as the per-position linear it is: the same numbers, and
    it also takes an empty window (the shared-context graph's context at P = 0), which Conv1d refuses."""
    return F.linear(x, conv.weight[:, :, 0], conv.bias)


class HeadProjection:
    """q, k and v per head from one Linear whose output features are laid out (3, heads, head_size), for an attention
    module giving `qkv_linear`, `heads`, `head_size` and `prepare(x)` (what q, k and v are projected from)."""

    def project_part(self, x: torch.Tensor, part: int) -> torch.Tensor:
        """prepare(x) [B, L, width] -> q (part 0), k (1) or v (2) [B, L, heads, head_size]: that part's rows of the
        Linear, so each is its own product and no split copies it."""
        linear, inner = self.qkv_linear, self.heads * self.head_size
        rows = slice(part * inner, (part + 1) * inner)
        y = F.linear(x, linear.weight[rows], None if linear.bias is None else linear.bias[rows])
        return y.reshape(x.shape[0], x.shape[1], self.heads, self.head_size)   # no -1: L may be 0

    def project_tokens(self, x: torch.Tensor):
        """x [B, L, width] -> q, k, v [B, L, heads, head_size]."""
        x = self.prepare(x)
        return tuple(self.project_part(x, part) for part in range(3))

    def project(self, x: torch.Tensor):
        """x [B, L, width] -> q, k, v [B, heads, L, head_size] (einops 'b t (h d) -> b h t d' of each third)."""
        return tuple(t.transpose(1, 2) for t in self.project_tokens(x))


class Attention(HeadProjection, nn.Module):
    """Multi-head self-attention with an optional additive bias [L, L]; inner dim = heads * head_dim."""

    def __init__(self, width: int, heads: int, head_dim: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.qkv = nn.Linear(width, 3 * inner)
        self.out = nn.Linear(inner, width)
        self.scale = 1.0 / math.sqrt(head_dim)

    @property
    def qkv_linear(self) -> nn.Linear:
        return self.qkv

    @property
    def head_size(self) -> int:
        return self.head_dim

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """What q, k and v are projected from (this attention has no norm of its own)."""
        return x

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        length = x.shape[1]
        q, k, v = self.project(x)                              # [B, h, L, hd]
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        if bias is not None:
            scores = scores + bias
        y = torch.matmul(scores.softmax(dim=-1), v)            # [B, h, L, hd]
        y = y.transpose(1, 2).reshape(-1, length, self.heads * self.head_dim)
        return self.out(y)


class Mlp(nn.Sequential):
    def __init__(self, width: int, hidden: int):
        super().__init__(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))


class PlainLayerNorm(nn.Module):
    """LayerNorm without learned affine. Explicit ones/zeros, because torch 1.13 exports an affine-free
    nn.LayerNorm as a LayerNormalization node with an empty scale input, which ONNX rejects."""

    def __init__(self, width: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.register_buffer("one", torch.ones(width), persistent=False)
        self.register_buffer("zero", torch.zeros(width), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.layer_norm(x, self.one.shape, self.one, self.zero, self.eps)


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, width: int, heads: int, head_dim: int, mlp: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = Attention(width, heads, head_dim)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = Mlp(width, mlp)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class AdaLnBlock(nn.Module):
    """DiT-style block conditioned by AdaLN-zero: shift/scale/gate for attention and MLP from the condition."""

    def __init__(self, width: int, heads: int, head_dim: int, mlp: int):
        super().__init__()
        self.norm1 = PlainLayerNorm(width)
        self.attn = Attention(width, heads, head_dim)
        self.norm2 = PlainLayerNorm(width)
        self.mlp = Mlp(width, mlp)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.modulation[1].weight)   # AdaLN-zero, as trained
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(cond).chunk(6, dim=-1)
        x = x + gate1 * self.attn(self.norm1(x) * (1 + scale1) + shift1, bias)
        return x + gate2 * self.mlp(self.norm2(x) * (1 + scale2) + shift2)


class Projector(nn.Module):
    """LeWM projector: Linear d -> h, BatchNorm1d(h), GELU, Linear h -> d. Works on [B, d] and [B, T, d]."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        if h.dim() == 3:   # BatchNorm1d normalises dim 1: [B, T, h] -> [B, h, T]
            h = self.bn(h.transpose(1, 2)).transpose(1, 2)
        else:
            h = self.bn(h)
        return self.fc2(self.act(h))


class PatchEmbed(nn.Module):
    def __init__(self, image_size: int, patch: int, width: int):
        super().__init__()
        self.proj = nn.Conv2d(3, width, kernel_size=patch, stride=patch)
        self.count = (image_size // patch) ** 2

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.proj(pixels).flatten(2).transpose(1, 2)    # [B, N, width]


def causal_bias(length: int) -> torch.Tensor:
    allowed = torch.tril(torch.ones(length, length, dtype=torch.bool))
    return torch.zeros(length, length).masked_fill(~allowed, MASKED)


def block_causal_bias(steps: int, tokens_per_step: int) -> torch.Tensor:
    """A token of step t sees every token of steps <= t."""
    step = torch.arange(steps * tokens_per_step) // tokens_per_step
    allowed = step[None, :] <= step[:, None]
    return torch.zeros(allowed.shape).masked_fill(~allowed, MASKED)


# ----------------------------------------------------------------------------------------------- LeWM

class LewmEncoder(nn.Module):
    """pixels [B, 3, H, W] -> latent [B, d]: ViT, final LayerNorm, CLS token, projector."""

    def __init__(self, cfg: LewmConfig):
        super().__init__()
        self.patch = PatchEmbed(cfg.image_size, cfg.patch, cfg.width)
        self.cls = nn.Parameter(torch.randn(1, 1, cfg.width) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, self.patch.count + 1, cfg.width) * 0.02)
        self.blocks = nn.ModuleList(
            Block(cfg.width, cfg.enc_heads, cfg.width // cfg.enc_heads, cfg.enc_mlp) for _ in range(cfg.enc_depth))
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.projector = Projector(cfg.width, cfg.proj_hidden)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch(pixels)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.projector(self.norm(x)[:, 0])


class ActionEncoder(nn.Module):
    """LeWM action embedder: Conv1d(k=1) block*dim -> smooth channels, Linear -> hidden, SiLU, Linear -> d."""

    def __init__(self, in_dim: int, smooth: int, hidden: int, width: int):
        super().__init__()
        self.smooth = nn.Conv1d(in_dim, smooth, kernel_size=1)
        self.fc1 = nn.Linear(smooth, hidden)
        self.act = nn.SiLU()
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, actions: torch.Tensor) -> torch.Tensor:          # [B, T, in_dim]
        x = pointwise(self.smooth, actions)                             # [B, T, smooth]
        return self.fc2(self.act(self.fc1(x)))


class LewmPredictor(nn.Module):
    """latents [B, T, d], actions [B, T, block*dim] -> next_latents [B, T, d], causal over frames."""

    def __init__(self, cfg: LewmConfig):
        super().__init__()
        self.action_encoder = ActionEncoder(cfg.action_block * cfg.action_dim, cfg.action_smooth,
                                            cfg.action_hidden, cfg.width)
        self.pos = nn.Parameter(torch.randn(cfg.history, cfg.width) * 0.02)
        self.register_buffer("mask", causal_bias(cfg.history), persistent=False)
        self.blocks = nn.ModuleList(
            AdaLnBlock(cfg.width, cfg.pred_heads, cfg.pred_head_dim, cfg.pred_mlp) for _ in range(cfg.pred_depth))
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.projector = Projector(cfg.width, cfg.proj_hidden)

    def forward(self, latents: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        steps = latents.shape[1]
        cond = self.action_encoder(actions)
        x = latents + self.pos[:steps]
        bias = self.mask[:steps, :steps]
        for block in self.blocks:
            x = block(x, cond, bias)
        return self.projector(self.norm(x))


# ----------------------------------------------------------------------------------------------- V-JEPA 2-AC

class VjepaEncoder(nn.Module):
    """pixels [B, 3, H, W] -> latent [B, N, D]: ViT patch tokens (no CLS), layer-normed.

    V-JEPA 2 duplicates a frame into a 2-frame tubelet for a Conv3d; on a duplicated frame that equals a Conv2d
    with the two temporal kernel slices summed, which is what an export folds it into.
    """

    def __init__(self, cfg: VjepaConfig):
        super().__init__()
        self.patch = PatchEmbed(cfg.image_size, cfg.patch, cfg.width)
        self.pos = nn.Parameter(torch.randn(1, self.patch.count, cfg.width) * 0.02)
        self.blocks = nn.ModuleList(
            Block(cfg.width, cfg.enc_heads, cfg.width // cfg.enc_heads, cfg.enc_mlp) for _ in range(cfg.enc_depth))
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch(pixels) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class VjepaPredictor(nn.Module):
    """latents [B, T, N, D], actions [B, T, dim], states [B, T, S] -> next_latents [B, T, N, D].

    Per step the tokens are [action, state, N patches]; attention is block-causal over steps. V-JEPA 2-AC uses
    3-D RoPE; here a learned step embedding plus a learned within-step token embedding stand in for it.
    The output is layer-normed like the encoder's tokens, so rollouts can feed predictions back.
    """

    def __init__(self, cfg: VjepaConfig):
        super().__init__()
        self.tokens = cfg.tokens
        self.group = cfg.tokens + 2
        self.width = cfg.pred_width
        self.patch_in = nn.Linear(cfg.width, cfg.pred_width)
        self.action_in = nn.Linear(cfg.action_block * cfg.action_dim, cfg.pred_width)
        self.state_in = nn.Linear(cfg.state_dim, cfg.pred_width)
        self.step_pos = nn.Parameter(torch.randn(cfg.history, 1, cfg.pred_width) * 0.02)
        self.token_pos = nn.Parameter(torch.randn(self.group, cfg.pred_width) * 0.02)
        self.register_buffer("mask", block_causal_bias(cfg.history, self.group), persistent=False)
        self.blocks = nn.ModuleList(
            Block(cfg.pred_width, cfg.pred_heads, cfg.pred_width // cfg.pred_heads, cfg.pred_mlp)
            for _ in range(cfg.pred_depth))
        self.norm = nn.LayerNorm(cfg.pred_width, eps=1e-6)
        self.out = nn.Linear(cfg.pred_width, cfg.width)
        self.out_norm = PlainLayerNorm(cfg.width)

    def forward(self, latents: torch.Tensor, actions: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        steps = latents.shape[1]
        tokens = torch.cat([self.action_in(actions).unsqueeze(2), self.state_in(states).unsqueeze(2),
                            self.patch_in(latents)], dim=2)                    # [B, T, N+2, W]
        tokens = tokens + self.token_pos + self.step_pos[:steps]
        length = steps * self.group
        x = tokens.reshape(-1, length, self.width)
        bias = self.mask[:length, :length]
        for block in self.blocks:
            x = block(x, bias)
        x = self.norm(x).reshape(-1, steps, self.group, self.width)[:, :, 2:]
        return self.out_norm(self.out(x))


# ----------------------------------------------------------------------------------------------- construction

def randomise(module: nn.Module, generator: torch.Generator) -> None:
    """Gives BatchNorm running statistics/affine and LayerNorm affine non-trivial values, so parity tests
    exercise them, and re-randomises the AdaLN-zero modulation.

    AdaLN-zero zero-initialises the modulation, which makes every block the identity and the actions irrelevant
    at random init. A trained model's actions matter, and the planner tests need that, so the modulation weights
    are redrawn from a small normal distribution here.
    """
    for m in module.modules():
        if isinstance(m, nn.BatchNorm1d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(1 + 0.1 * torch.randn(m.num_features, generator=generator))
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=generator))
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            with torch.no_grad():
                m.weight.copy_(1 + 0.1 * torch.randn(m.normalized_shape, generator=generator))
                m.bias.copy_(0.05 * torch.randn(m.normalized_shape, generator=generator))
        elif isinstance(m, AdaLnBlock):
            lin = m.modulation[1]
            with torch.no_grad():
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=generator) * ADALN_STD / math.sqrt(lin.in_features))
                lin.bias.copy_(torch.randn(lin.bias.shape, generator=generator) * 0.1)



def build(cfg, seed: int) -> tuple[nn.Module, nn.Module]:
    """Deterministically builds (encoder, predictor) in eval mode from a config and a seed."""
    torch.manual_seed(seed)
    if isinstance(cfg, LewmConfig):
        encoder, predictor = LewmEncoder(cfg), LewmPredictor(cfg)
    elif isinstance(cfg, VjepaConfig):
        encoder, predictor = VjepaEncoder(cfg), VjepaPredictor(cfg)
    else:
        raise TypeError(f"unknown config {type(cfg).__name__}")
    generator = torch.Generator().manual_seed(seed + 1)
    randomise(encoder, generator)
    randomise(predictor, generator)
    return encoder.eval(), predictor.eval()


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
