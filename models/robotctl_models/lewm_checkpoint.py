"""Writes stable-worldmodel LeWM checkpoints with random weights (and small action datasets) for testing the importer.

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.lewm_checkpoint make --size tiny|full --out DIR [--seed S] [--action-dim N]
                                                        [--frameskip F] [--history H]
  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.lewm_checkpoint actions --out FILE.h5 [--action-dim N] [--episodes E]
                                                        [--length L] [--seed S] [--stats-out FILE.json]

`make` writes DIR/config.json and DIR/weights.pt exactly as stable_worldmodel.wm.utils.save_pretrained does after
scripts/train/lewm.py: config.json is the resolved hydra `model:` section of scripts/train/config/lewm.yaml (json.dump,
indent 2; action_encoder.input_dim = frameskip x action dim, which is all a checkpoint records of the frameskip),
weights.pt is torch.save(LeWM.state_dict()) with the authors' key names (models/robotctl_models/lewm_modules.py).
  full: the published LeWM size: ViT 'tiny' (192 wide, 12 layers, 3 heads) patch 14 at 224, predictor depth 6,
        16 heads x 64, MLP 2048, projector/pred_proj hidden 2048 with BatchNorm1d, history 3, frameskip 5,
        action dim 2 (PushT) by default. ~18M parameters, weights.pt ~72 MB: write it under /tmp, never commit it.
  tiny: the same architecture, very small, for committed CI fixtures: 32x32 images, patch 8, width 32, 2 ViT layers
        (2 heads, intermediate 64), predictor depth 2, 2 heads x 16, MLP 64, projector hidden 64; action dim 7 by
        default. The ViT's size is stated the way vit_hf itself accepts it: size 'tiny' plus ViTConfig keyword
        overrides (hidden_size, num_hidden_layers, num_attention_heads, intermediate_size), no extension needed.
Weights are random from the seed but not trivial: AdaLN-zero's zero-initialised modulation is redrawn (else every
block is the identity and actions are irrelevant), BatchNorm running statistics and all LayerNorm affines get
non-trivial values, so parity tests exercise them. Deterministic for a given torch version.

`actions` writes an HDF5 file in stable-worldmodel's layout (ep_len int32, ep_offset int64, action float32 [rows, N],
chunks of one row as their HDF5Writer makes) with the last action of every episode NaN, as their datasets have at
episode ends; the importer's --action-stats computes mean/std from it as their ZScoreScaler does (--stats-out writes
those to a JSON file the importer also takes).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import lewm_modules as lm

ADALN_STD = 2.0     # as models/robotctl_models/arch.py: std x 1/sqrt(fan_in) of the redrawn AdaLN modulation


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def lewm_config(size: str, action_dim: int, frameskip: int, history: int) -> dict:
    """The resolved `model:` section of scripts/train/config/lewm.yaml, as save_pretrained writes it."""
    if size == "full":
        encoder = {"_target_": "stable_pretraining.backbone.utils.vit_hf", "size": "tiny", "patch_size": 14,
                   "image_size": 224, "pretrained": False, "use_mask_token": False}
        width, depth, heads, mlp, dim_head, hidden = 192, 6, 16, 2048, 64, 2048
    else:
        encoder = {"_target_": "stable_pretraining.backbone.utils.vit_hf", "size": "tiny", "patch_size": 8,
                   "image_size": 32, "pretrained": False, "use_mask_token": False,
                   "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
        width, depth, heads, mlp, dim_head, hidden = 32, 2, 2, 64, 16, 64

    def mlp_head() -> dict:
        return {"_target_": lm.MLP_TARGET, "input_dim": width, "output_dim": width, "hidden_dim": hidden,
                "norm_fn": {"_target_": "torch.nn.BatchNorm1d", "_partial_": True}}

    return {
        "_target_": lm.LEWM_TARGET,
        "encoder": encoder,
        "predictor": {"_target_": lm.PREDICTOR_TARGET, "num_frames": history, "input_dim": width, "hidden_dim": width,
                      "output_dim": width, "depth": depth, "heads": heads, "mlp_dim": mlp, "dim_head": dim_head,
                      "dropout": 0.1, "emb_dropout": 0.0},
        "action_encoder": {"_target_": lm.EMBEDDER_TARGET, "input_dim": frameskip * action_dim, "emb_dim": width},
        "projector": mlp_head(),
        "pred_proj": mlp_head(),
    }


def randomise(model: nn.Module, generator: torch.Generator) -> None:
    """Non-trivial values for what default initialisation leaves at 0 or 1 (see the module docstring)."""
    def randn(shape):
        return torch.randn(shape, generator=generator)

    with torch.no_grad():
        vit = model.encoder.embeddings
        vit.cls_token.copy_(0.5 * randn(vit.cls_token.shape))
        vit.position_embeddings.copy_(0.5 * randn(vit.position_embeddings.shape))
        model.predictor.pos_embedding.copy_(randn(model.predictor.pos_embedding.shape))   # the authors' init: randn
        # Variance-preserving action encoder, so unit-variance (normalised) actions give an O(1) condition.
        for m in model.action_encoder.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d)):
                m.weight.copy_(randn(m.weight.shape) / math.sqrt(m.weight[0].numel()))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(0.1 * randn(m.num_features))
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(1 + 0.1 * randn(m.num_features))
                m.bias.copy_(0.1 * randn(m.num_features))
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(1 + 0.1 * randn(m.normalized_shape))
                m.bias.copy_(0.05 * randn(m.normalized_shape))
            elif isinstance(m, lm.ConditionalBlock):
                lin = m.adaLN_modulation[1]
                lin.weight.copy_(randn(lin.weight.shape) * ADALN_STD / math.sqrt(lin.in_features))
                lin.bias.copy_(0.1 * randn(lin.bias.shape))


def make(args) -> None:
    start = time.time()
    out = args.out
    if out.exists() and not out.is_dir():
        sys.exit(f"lewm checkpoint: --out {out} exists and is not a folder")
    action_dim = args.action_dim if args.action_dim is not None else (2 if args.size == "full" else 7)
    config = lewm_config(args.size, action_dim, args.frameskip, args.history)
    spec = lm.parse_config(config)
    torch.manual_seed(args.seed)
    model = lm.build(spec)
    randomise(model, torch.Generator().manual_seed(args.seed + 1))
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=2))   # save_pretrained: json.dump(config, f, indent=2)
    torch.save(model.state_dict(), out / "weights.pt")
    enc = lm.parameter_count(model.encoder) + lm.parameter_count(model.projector)
    pred = lm.parameter_count(model) - enc
    log(f"[lewm-checkpoint] {args.size}: action dim {action_dim} x frameskip {args.frameskip}, history {args.history}, "
        f"seed {args.seed}; encoder+projector {enc:,} params, predictor+action encoder+pred_proj {pred:,}")
    for name in ("config.json", "weights.pt"):
        log(f"  {out / name}: {(out / name).stat().st_size / 1e6:.3f} MB")
    log(f"[lewm-checkpoint] done in {time.time() - start:.1f} s")


def actions(args) -> None:
    import h5py
    rng = np.random.default_rng(args.seed)
    scale = np.linspace(0.5, 2.0, args.action_dim)           # per-dim spread and offset, so the stats differ by dim
    offset = np.linspace(-0.3, 0.4, args.action_dim)
    blocks = []
    for _ in range(args.episodes):
        a = (rng.standard_normal((args.length, args.action_dim)) * scale + offset).astype(np.float32)
        a[-1] = np.nan                                       # no action after an episode's last frame
        blocks.append(a)
    data = np.concatenate(blocks)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Their HDF5Writer opens with libver="latest"; the default format here keeps the file byte-identical between runs
    # (the newer root-group header records its creation time). Readers see the same datasets.
    with h5py.File(args.out, "w") as f:
        f.create_dataset("action", data=data, maxshape=(None, args.action_dim), chunks=(1, args.action_dim),
                         track_times=False)
        f.create_dataset("ep_len", data=np.full(args.episodes, args.length, dtype=np.int32), maxshape=(None,),
                         track_times=False)
        f.create_dataset("ep_offset", data=np.arange(args.episodes, dtype=np.int64) * args.length,
                         maxshape=(None,), track_times=False)
    log(f"[lewm-checkpoint] {args.out}: {args.episodes} episodes x {args.length} steps, action dim {args.action_dim}, "
        f"{args.out.stat().st_size / 1e3:.1f} kB")
    if args.stats_out:
        import lewm_import   # the importer's own computation (their ZScoreScaler's), so both files give one model.json
        mean, std, _ = lewm_import.read_action_stats(args.out)
        args.stats_out.write_text(json.dumps({"mean": mean, "std": std}) + "\n")
        log(f"[lewm-checkpoint] {args.stats_out}: mean {mean}, std {std}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make", help="write a checkpoint folder (config.json + weights.pt)")
    p.add_argument("--size", choices=("tiny", "full"), required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--action-dim", type=int, default=None, help="low-level action size (default: full 2, tiny 7)")
    p.add_argument("--frameskip", type=int, default=5)
    p.add_argument("--history", type=int, default=3, help="predictor num_frames")
    a = sub.add_parser("actions", help="write a small HDF5 action dataset in stable-worldmodel's layout")
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--action-dim", type=int, default=2)
    a.add_argument("--episodes", type=int, default=4)
    a.add_argument("--length", type=int, default=50)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--stats-out", type=Path, help="also write its mean/std as the importer computes them (JSON)")
    args = parser.parse_args()
    for name in ("action_dim", "frameskip", "history", "episodes", "length"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, found {value}")
    torch.set_num_threads(2)
    make(args) if args.command == "make" else actions(args)


if __name__ == "__main__":
    main()
