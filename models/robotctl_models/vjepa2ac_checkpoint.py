"""Random-weight V-JEPA 2-AC checkpoints in the authors' layout, made by our own modules (vjepa2ac_modules.py).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.vjepa2ac_checkpoint make --out CKPT.pt [--arch ARCH.json | --published] [--seed 0]

The file is what their training and hub code hold: torch.save({"encoder": state dict, "predictor": state dict}) with the
authors' key names; the encoder's keys carry "module.backbone." and the predictor's "module." (their DistributedDataParallel
and wrapper prefixes, which src/hub/backbones.py _clean_backbone_key removes), and a RoPE encoder also gets the sincos
`pos_embed` their hub comment says the published state dicts carry (and their strict=False load skips). Weights are
random but not trivial: LayerNorm affines away from 1/0, biases non-zero, matrices scaled by 1/sqrt(fan-in), and the
action and state encoders scaled up (x ACTION_GAIN) so that metre-sized deltas move the predictions visibly. Without
--arch or --published: tests/fixtures/vjepa2ac-checkpoint/arch.json. Output is byte-identical for the same torch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from . import vjepa2ac_modules as vm

REPO = Path(__file__).resolve().parents[2]
FIXTURE_ARCH = REPO / "tests" / "fixtures" / "vjepa2ac-checkpoint" / "arch.json"
ACTION_GAIN = 8.0


def random_state(module: torch.nn.Module, seed: int, gain_keys=()) -> dict:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, p in module.state_dict().items():
        n = torch.randn(p.shape, generator=g)
        if name.endswith("bias"):
            v = 0.05 * n
        elif p.ndim == 1:                       # LayerNorm weight
            v = 1.0 + 0.1 * n
        elif name == "pos_embed":
            v = 0.1 * n
        else:
            v = n / max(1, p[0].numel()) ** 0.5
        if any(name.startswith(k) for k in gain_keys) and name.endswith("weight"):
            v = v * ACTION_GAIN
        state[name] = v.contiguous()
    return state


def make(arch: dict, seed: int, out: Path) -> dict:
    enc, pred = vm.resolve(arch)
    encoder, predictor = vm.build(enc, pred, device="meta")
    e = random_state(encoder, seed)
    if enc.use_rope:   # the extra key of the published state dicts (theirs: strict=False)
        g = torch.Generator().manual_seed(seed + 7)
        e["pos_embed"] = 0.1 * torch.randn(1, (enc.num_frames // enc.tubelet) * enc.tokens, enc.embed_dim, generator=g)
    p = random_state(predictor, seed + 1, gain_keys=("action_encoder", "state_encoder"))
    data = {"encoder": {f"module.backbone.{k}": v for k, v in e.items()},
            "predictor": {f"module.{k}": v for k, v in p.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, out)
    return {"encoder": (len(e), vm.parameter_count(encoder)), "predictor": (len(p), vm.parameter_count(predictor))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", type=Path, required=True)
    group = m.add_mutually_exclusive_group()
    group.add_argument("--arch", type=Path)
    group.add_argument("--published", action="store_true", help="the published ViT-g AC configuration (~5.2 GB)")
    m.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    arch = vm.PUBLISHED if args.published else json.loads((args.arch or FIXTURE_ARCH).read_text())
    counts = make(arch, args.seed, args.out)
    print(f"wrote {args.out}: encoder {counts['encoder'][0]} tensors ({counts['encoder'][1]:,} parameters), predictor "
          f"{counts['predictor'][0]} tensors ({counts['predictor'][1]:,} parameters), {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
