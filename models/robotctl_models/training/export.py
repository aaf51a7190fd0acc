"""Exports trained workcell weights (train.py's weights.pt) to a robotctl model directory (models/README.md).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.training.export --weights runs/workcell/weights.pt --out models/workcell
      [--name workcell] [--report runs/workcell/report.json]

Writes model.json, encoder.onnx, predictor.onnx and reference/ (PyTorch outputs for formula inputs), then runs
`robotctl model check` on it, which checks the graphs against those references with ONNX Runtime (tolerance 1e-4
absolute + 1e-3 relative to the largest reference value), and fails if they differ. robotctl must be built (or named
by ROBOTCTL_BIN, see model_check.py). The planner defaults written into model.json are the ones the evaluation
(docs/EVALUATION.md) measured: CEM, the cost summed over LeWM's horizon of 5 blocks (push gained over 3 on every model
and seed measured, 2026-12-07), one block executed per plan.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

from .. import make_models as mm  # ONNX export, signature checks, references
from .. import model_check, shared_context
from . import workcell_model as wm

# The sim tasks move the effector in x and y at a fixed height: the planner searches dx, dy and holds the rest.
SEARCH = [True, True, False, False, False, False, False]
PLANNER = {"solver": "cem", "cost": "mse", "samples": 300, "topk": 30, "iterations": 10, "horizon": 5,
           "receding": 1, "init_std": 1.0, "cost_shape": "sum"}


def flops(cfg: wm.WorkcellConfig) -> dict:
    """Multiply-adds x 2 of convolutions and matrix products (the convention of models/README.md)."""
    n, c_in, enc = cfg.image_size, 5, 0
    for i, c in enumerate(cfg.channels):
        k = 5 if i == 0 else 3
        n //= 2
        enc += n * n * c * c_in * k * k
        c_in = c
    enc += c_in * n * n * cfg.feature + cfg.feature * cfg.proj_hidden + cfg.proj_hidden * cfg.latent
    w, inner = cfg.width, cfg.pred_heads * cfg.pred_head_dim
    a_in = cfg.action_block * cfg.action_dim
    per_token = (cfg.latent * w + a_in * cfg.action_smooth + cfg.action_smooth * cfg.action_hidden
                 + cfg.action_hidden * w + cfg.pred_depth * (w * 6 * w + w * 3 * inner + inner * w + 2 * w * cfg.pred_mlp)
                 + w * cfg.pred_head_hidden + cfg.pred_head_hidden * cfg.latent)
    pred = {}
    for t in range(1, cfg.history + 1):
        attention = cfg.pred_depth * 2 * t * t * inner
        pred[str(t)] = 2 * (t * per_token + attention)
    return {"encoder_per_image": 2 * enc, "predictor_per_sample": pred}


def manifest(name: str, cfg: wm.WorkcellConfig, ckpt: dict, report: dict | None) -> dict:
    generator = {"script": "models/robotctl_models/training/train.py", "seed": ckpt["seed"], "steps": ckpt["steps"],
                 "torch": ckpt["torch"], "arch": cfg.as_dict()}
    if ckpt.get("state_term"):
        generator["state_term"] = ckpt["state_term"]
    if ckpt.get("init"):
        generator["init"] = ckpt["init"]      # trained on from these weights (train.py --init), not from scratch
    if report:
        generator["train_seconds"] = report.get("train_seconds")
        generator["frames"] = report.get("frames")
        generator["episodes"] = report.get("episodes")
    return {
        "format": 1,
        "name": name,
        "family": "lewm",
        "image": {"width": cfg.image_size, "height": cfg.image_size, "scale": 255.0,
                  "mean": ckpt["image_mean"], "std": ckpt["image_std"]},
        "encoder": {"file": "encoder.onnx", "input": "pixels", "output": "latent"},
        "predictor": {"file": "predictor.onnx", "latents": "latents", "actions": "actions", "states": None,
                      "output": "next_latents", "history": cfg.history,
                      "shared_context": shared_context.manifest_entry()},
        "latent": {"shape": cfg.latent_shape},
        "action": {"dim": cfg.action_dim, "block": cfg.action_block, "mean": [0.0] * cfg.action_dim,
                   "std": list(ckpt["action_std"]), "search": SEARCH},
        "state": None,
        "planner": PLANNER,
        "flops": flops(cfg),
        "generator": generator,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description="Export trained workcell weights to a robotctl model directory.")
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default="workcell")
    ap.add_argument("--report", type=Path, help="train.py's report.json: training facts go into model.json")
    args = ap.parse_args()
    if not args.weights.is_file():
        print(f"export: {args.weights}: no such file (train first: robotctl_models.training.train)", file=sys.stderr)
        return 2
    try:
        model_check.command()   # no robotctl to check the export: say so before exporting
    except model_check.CheckFailed as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    ckpt = torch.load(args.weights, map_location="cpu")
    cfg = wm.WorkcellConfig.from_dict(ckpt["config"])
    encoder, predictor = wm.build(cfg, 0)
    encoder.load_state_dict(ckpt["encoder"]); predictor.load_state_dict(ckpt["predictor"])
    encoder.eval(); predictor.eval()
    report = json.loads(args.report.read_text()) if args.report and args.report.is_file() else None

    out = args.out
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        mm.write_json(staging / "model.json", manifest(args.name, cfg, ckpt, report))
        mm.export_encoder(encoder, cfg, staging / "encoder.onnx")
        mm.export_predictor(predictor, cfg, staging / "predictor.onnx")
        mm.export_shared_context(predictor, cfg, staging)
        mm.write_references(staging, encoder, predictor, cfg, big_batch=False)
        model_check.check(staging)
    except model_check.CheckFailed as e:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"export: {e}", file=sys.stderr)
        return 1
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"[export] {out}: encoder {wm.parameter_count(encoder):,} + predictor {wm.parameter_count(predictor):,} "
          f"parameters, {size / 1e6:.2f} MB; ONNX Runtime parity checked", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
