"""The workcell world model: a LeWM-style JEPA sized for training on 2 CPU cores.

Encoder: a small CNN (LeWM uses a ViT; at 64x64 on a CPU budget a CNN learns position faster) with two constant
coordinate channels, flattened spatially (keeps where things are), a linear layer and LeWM's projector
(Linear, BatchNorm1d, GELU, Linear) down to a small latent. Predictor: LeWM's: causal transformer over the last
`history` latents, each position conditioned on its action block by AdaLN-zero (models/robotctl_models/arch.py), then a
projector head. Shapes follow the model contract (models/README.md): encoder pixels [B, 3, H, W] -> latent [B, D];
predictor latents [B, T, D] + actions [B, T, block * 7] -> next_latents [B, T, D].
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .. import arch  # AdaLnBlock, ActionEncoder, causal_bias


@dataclasses.dataclass(frozen=True)
class WorkcellConfig:
    image_size: int = 64
    channels: tuple = (16, 32, 64, 64)    # stride-2 convolutions: 64 -> 32 -> 16 -> 8 -> 4
    feature: int = 256                    # after the flattened 4x4 map
    latent: int = 32                      # D
    proj_hidden: int = 512
    # Predictor sized for planning speed: 300 samples x 10 iterations x 5 steps is 15,000 predictor evaluations per
    # plan, so ~1.5 MFLOP per sample keeps a plan near half a second on 2 CPU cores.
    width: int = 64                       # predictor token width
    pred_depth: int = 3
    pred_heads: int = 4
    pred_head_dim: int = 16
    pred_mlp: int = 256
    pred_head_hidden: int = 256
    history: int = 3
    action_dim: int = 7
    action_block: int = 5
    action_smooth: int = 32
    action_hidden: int = 64
    # Predict the change of each latent rather than the latent itself (next = latent + head(...)): what does not move
    # (a block nobody touches) is carried over exactly instead of re-predicted. False for models trained before it.
    residual: bool = False

    # The attributes models/robotctl_models/make_models.py's reference writer reads.
    @property
    def latent_shape(self) -> list[int]:
        return [self.latent]

    state_dim = 0

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @staticmethod
    def from_dict(d: dict) -> "WorkcellConfig":
        d = dict(d)
        d["channels"] = tuple(d["channels"])
        return WorkcellConfig(**d)


class Projector(nn.Module):
    """LeWM's projector, d_in -> hidden -> d_out, BatchNorm over the batch (and time) dimension."""

    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        if h.dim() == 3:   # [B, T, h]: BatchNorm1d normalises dim 1
            h = self.bn(h.transpose(1, 2)).transpose(1, 2)
        else:
            h = self.bn(h)
        return self.fc2(self.act(h))


class WorkcellEncoder(nn.Module):
    """pixels [B, 3, H, W] (normalised) -> latent [B, D]."""

    def __init__(self, cfg: WorkcellConfig):
        super().__init__()
        n = cfg.image_size
        ramp = torch.linspace(-1.0, 1.0, n)
        # Constant x/y coordinate planes (CoordConv): position becomes easy to read out, which planning needs.
        self.register_buffer("coords", torch.stack([ramp[None, :].expand(n, n), ramp[:, None].expand(n, n)])[None],
                             persistent=False)
        layers, c_in = [], 5
        for i, c in enumerate(cfg.channels):
            k = 5 if i == 0 else 3
            layers += [nn.Conv2d(c_in, c, k, stride=2, padding=k // 2), nn.GELU()]
            c_in = c
        self.convs = nn.Sequential(*layers)
        side = n >> len(cfg.channels)
        self.fc = nn.Linear(c_in * side * side, cfg.feature)
        self.norm = nn.LayerNorm(cfg.feature, eps=1e-6)
        self.projector = Projector(cfg.feature, cfg.proj_hidden, cfg.latent)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = torch.cat([pixels, self.coords.expand(pixels.shape[0], -1, -1, -1)], dim=1)
        x = self.convs(x).flatten(1)
        return self.projector(self.norm(self.fc(x)))


class WorkcellPredictor(nn.Module):
    """latents [B, T, D], actions [B, T, block*dim] -> next_latents [B, T, D]; causal over T <= history."""

    def __init__(self, cfg: WorkcellConfig):
        super().__init__()
        self.inp = nn.Linear(cfg.latent, cfg.width)
        self.action_encoder = arch.ActionEncoder(cfg.action_block * cfg.action_dim, cfg.action_smooth,
                                                 cfg.action_hidden, cfg.width)
        self.pos = nn.Parameter(torch.randn(cfg.history, cfg.width) * 0.02)
        self.register_buffer("mask", arch.causal_bias(cfg.history), persistent=False)
        self.blocks = nn.ModuleList(arch.AdaLnBlock(cfg.width, cfg.pred_heads, cfg.pred_head_dim, cfg.pred_mlp)
                                    for _ in range(cfg.pred_depth))
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.head = Projector(cfg.width, cfg.pred_head_hidden, cfg.latent)
        self.residual = cfg.residual

    def forward(self, latents: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        steps = latents.shape[1]
        cond = self.action_encoder(actions)
        x = self.inp(latents) + self.pos[:steps]
        bias = self.mask[:steps, :steps]
        for block in self.blocks:
            x = block(x, cond, bias)
        out = self.head(self.norm(x))
        return latents + out if self.residual else out


def build(cfg: WorkcellConfig, seed: int) -> tuple[WorkcellEncoder, WorkcellPredictor]:
    torch.manual_seed(seed)
    return WorkcellEncoder(cfg), WorkcellPredictor(cfg)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
