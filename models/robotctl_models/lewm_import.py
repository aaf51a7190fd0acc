"""Imports a stable-worldmodel LeWM checkpoint into robotctl's model contract (see models/README.md).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.lewm_import CHECKPOINT --out MODEL_DIR [--action-stats FILE]
        [--action-dims dx,dy,...] [--name NAME] [--history H] [--frameskip F] [--no-model-check]

CHECKPOINT is a folder as stable_worldmodel.wm.utils.save_pretrained writes it: weights.pt (LeWM.state_dict()) and
config.json (the resolved hydra `model:` config, `_target_` stable_worldmodel.wm.lewm.LeWM). Like their
load_pretrained, a folder without weights.pt but with exactly one other *.pt file (the training script's
weights_epoch_N.pt) is taken too, and CHECKPOINT may also name the .pt file itself.

MODEL_DIR gets model.json, encoder.onnx (pixels [B,3,H,W] -> latent [B,D]), predictor.onnx (latents [B,T,D], actions
[B,T,block*7] -> next_latents [B,T,D]; action encoder, predictor and pred_proj inside; opset 17, B and T dynamic,
T <= history) and reference/ parity cases (encoder_b1, predictor_b1_T1..T<history>, predictor_b2_T<history>), which
`robotctl model check` then runs through ONNX Runtime (a built robotctl is needed; robotctl model import passes
--no-model-check and runs that check itself).

Actions. robotctl's actions are 7-D (dx, dy, dz, droll, dpitch, dyaw, gripper). A checkpoint's action encoder takes
frameskip x N values per step (action_encoder.input_dim; the dataset concatenates the frameskip low-level actions of
a step dimension-fastest, their Dataset.__getitem__ reshaping [frameskip*steps, N] to [steps, frameskip*N]).
--action-dims names the robotctl axes the checkpoint's N dims are, in its order (default: the first N); the
predictor graph takes [B,T,block*7] and gathers those axes into the [block*N] layout. A checkpoint does not record
its frameskip: it is --frameskip, else 5 (every stable-worldmodel data config's) when 5 divides input_dim, else
input_dim / N where --action-stats or --action-dims give N. --action-stats: JSON {"mean": [N], "std": [N]}, or an
HDF5 dataset file with an `action` dataset (their layout) from which mean/std are computed as their training
normaliser (stable_worldmodel.data.normalization.ZScoreScaler, via column_normalizer in scripts/train/lewm.py) does:
the whole column reshaped to [-1, N], rows with any NaN dropped, numpy mean and population std (ddof 0) in the
column's dtype, std clamped to >= 1e-8. Without it: mean 0, std 1 (the planner's actions are then taken as already
normalised).

Bad input (a missing or malformed checkpoint, config or stats file, keys or shapes that disagree with config.json,
bad --action-dims, an --out that exists and is not empty): one line `lewm import: ...` on stderr, exit 2, and no
MODEL_DIR (everything is written into a temporary folder beside it and renamed at the end). Exit 1: an internal
failure (export, parity). Progress on stderr, a short summary on stdout.
"""
from __future__ import annotations

import argparse
import inspect
import io
import json
import math
import os
import resource
import shutil
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import torch

from . import lewm_modules as lm
from . import make_models, model_check, shared_context
from .importing import (BadInput, Parser, add_check_argument, check_keys_and_shapes, check_out, check_result, guarded,
                        log, sha256, torch_load)
from .importing import names as _names

SCRIPT = "models/robotctl_models/lewm_import.py"
ACTION_NAMES = ["dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper"]   # robotctl's 7-D end-effector command
DEFAULT_FRAMESKIP = 5          # frameskip of every data config in stable-worldmodel's scripts/train/config/data/
ZSCORE_EPS = 1e-8              # ZScoreScaler(eps=1e-8): x / max(std, eps)
# The authors' planning-time image transform (scripts/plan/eval_wm.py img_transform): ToImage, ToDtype(float32,
# scale=True) = /255, Normalize(ImageNet mean/std, stable_pretraining.data.dataset_stats.ImageNet), Resize(img_size)
# (224; after normalising, which is linear, so it commutes with it). Training uses the same ImageNet statistics
# (scripts/train/lewm.py get_img_preprocessor). robotctl's runtime computes (pixel / 255 - mean) / std.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# The authors' PushT planning config (scripts/plan/config/pusht.yaml + solver/cem.yaml): CEM, 300 samples, top 30,
# 30 steps, horizon 5, receding 5, var_scale 1.0 (used as the initial std of the normalised actions), GoalMSE (sum of
# squared differences of the last predicted latent to the goal's). Their CEMSolver returns the final elite mean
# (solver/cem.py `outputs['actions'] = mean`) and scores only fresh samples (no elite carried over): execute "mean",
# elitism false.
PLANNER = {"solver": "cem", "cost": "mse", "samples": 300, "topk": 30, "iterations": 30, "horizon": 5,
           "receding": 5, "init_std": 1.0, "cost_shape": "last", "execute": "mean", "elitism": False}


def parse_args(argv) -> argparse.Namespace:
    parser = Parser(prog="python3 -m robotctl_models.lewm_import", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="checkpoint folder (weights.pt + config.json), or its .pt file")
    parser.add_argument("--out", type=Path, required=True, help="model directory to create (must not exist, or be empty)")
    parser.add_argument("--action-stats", type=Path, help="JSON {mean, std} or an HDF5 file with an 'action' dataset")
    parser.add_argument("--action-dims", help=f"robotctl axes of the checkpoint's action dims, in its order "
                                              f"(comma-separated from {','.join(ACTION_NAMES)}; default: the first N)")
    parser.add_argument("--name", help="model name in model.json (default: the --out folder's name)")
    parser.add_argument("--history", type=int, help="context frames (default and maximum: predictor num_frames)")
    parser.add_argument("--frameskip", type=int, help="low-level actions per predictor step (default: see above)")
    add_check_argument(parser)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------------------- reading inputs

def find_checkpoint(path: Path) -> tuple[Path, Path, Path]:
    """(folder, weights file, config.json) the way load_pretrained resolves a local folder or .pt file."""
    if path.suffix == ".pt" and path.is_file():
        folder, weights = path.parent, path
    elif not path.exists():
        raise BadInput(f"checkpoint {path}: no such folder")
    elif not path.is_dir():
        raise BadInput(f"checkpoint {path}: not a folder (expected a folder with weights.pt and config.json)")
    else:
        folder = path
        weights = path / "weights.pt"
        if not weights.is_file():
            others = sorted(p.name for p in path.glob("*.pt") if p.is_file())
            if len(others) == 1:
                weights = path / others[0]
            elif others:
                raise BadInput(f"checkpoint {path}: no weights.pt, and {len(others)} other .pt files "
                               f"({', '.join(others[:5])}); name one of them instead of the folder")
            else:
                raise BadInput(f"checkpoint {path}: no weights.pt (expected weights.pt and config.json, as "
                               f"save_pretrained writes them)")
    config = folder / "config.json"
    if not config.is_file():
        raise BadInput(f"checkpoint {folder}: no config.json (expected weights.pt and config.json, as save_pretrained "
                       f"writes them)")
    return folder, weights, config


def read_config(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot be read ({e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None


def load_weights(path: Path) -> dict:
    state = torch_load(path, str(path), "torch state dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        keys = list(state)[:5] if isinstance(state, dict) else []
        raise BadInput(f"{path}: expected LeWM.state_dict() (a dict of tensors, as save_pretrained saves), found "
                       f"{type(state).__name__}" + (f" with keys {', '.join(map(str, keys))}" if keys else ""))
    return state


def check_state_dict(model: torch.nn.Module, state: dict, weights: Path) -> None:
    """Strict key and shape agreement with the modules config.json describes, then load (strict)."""
    check_keys_and_shapes(model.state_dict(), state, str(weights), "the LeWM config.json describes", "config.json")
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            bad = int((~torch.isfinite(v)).sum())
            raise BadInput(f"{weights} {k}: {bad} non-finite value{'s' if bad != 1 else ''}")
    model.load_state_dict(state, strict=True)


def read_action_stats(path: Path) -> tuple[list, list, dict]:
    """(mean, std, provenance) from JSON {mean, std} or an HDF5 'action' dataset (see the module docstring)."""
    if not path.is_file():
        raise BadInput(f"--action-stats {path}: no such file")
    import h5py
    if h5py.is_hdf5(str(path)):
        return _hdf5_stats(path, h5py)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"--action-stats {path}: neither HDF5 nor JSON ({e})") from None
    if not isinstance(document, dict) or "mean" not in document or "std" not in document:
        raise BadInput(f"--action-stats {path}: expected JSON {{\"mean\": [...], \"std\": [...]}} or an HDF5 file with "
                       f"an 'action' dataset")
    values = {}
    for key in ("mean", "std"):
        v = document[key]
        if isinstance(v, list) and len(v) == 1 and isinstance(v[0], list):
            v = v[0]                                     # ZScoreScaler keeps [1, N] (keepdims)
        if (not isinstance(v, list) or not v
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
            raise BadInput(f"--action-stats {path}: '{key}' must be a non-empty list of finite numbers, found "
                           f"{lm.json_repr(v)}")
        values[key] = [float(x) for x in v]
    mean, std = values["mean"], values["std"]
    if len(mean) != len(std):
        raise BadInput(f"--action-stats {path}: mean has {len(mean)} values, std has {len(std)}")
    for i, s in enumerate(std):
        if s <= 0:
            raise BadInput(f"--action-stats {path}: std[{i}] is {s:g}, expected > 0")
    return mean, std, {"file": str(path.resolve()), "format": "json"}


def _hdf5_stats(path: Path, h5py) -> tuple[list, list, dict]:
    try:
        with h5py.File(path, "r") as f:
            if "action" not in f or not isinstance(f["action"], h5py.Dataset):
                raise BadInput(f"--action-stats {path}: no 'action' dataset (found: {_names(f.keys()) or 'nothing'})")
            data = f["action"][()]
    except BadInput:
        raise
    except Exception as e:  # noqa: BLE001
        raise BadInput(f"--action-stats {path}: cannot read it as HDF5 ({type(e).__name__}: {e})") from None
    if data.dtype.kind not in "fiu":
        raise BadInput(f"--action-stats {path}: 'action' has dtype {data.dtype}, expected numbers")
    if data.ndim == 1:
        data = data.reshape(-1, 1)      # their get_dim('action') is 1 for a 1-D column
    if data.ndim != 2 or data.shape[1] == 0:
        raise BadInput(f"--action-stats {path}: 'action' has shape {list(data.shape)}, expected [rows, N]")
    # ZScoreScaler.fit: _to_numpy_2d (reshape(-1, N), drop rows with any NaN), then mean / std (ddof 0).
    rows = data.reshape(-1, data.shape[-1])
    rows = rows[~np.isnan(rows).any(axis=1)]
    if len(rows) == 0:
        raise BadInput(f"--action-stats {path}: every row of 'action' has a NaN; no statistics")
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    constant = [i for i, s in enumerate(std) if not s > ZSCORE_EPS]
    info = {"file": str(path.resolve()), "format": "hdf5", "dataset": "action", "rows": int(len(data)),
            "rows_used": int(len(rows)), "method": "ZScoreScaler: NaN rows dropped, mean, population std, std >= 1e-8"}
    if constant:
        info["constant_dims"] = constant
    return ([float(x) for x in mean], [float(max(float(s), ZSCORE_EPS)) for s in std], info)


def resolve_actions(input_dim: int, frameskip: int | None, stats, dims_arg: str | None) -> tuple[int, int, list, str]:
    """(frameskip, N, robotctl axis names of the checkpoint's dims in its order, how frameskip was found)."""
    names = None
    if dims_arg is not None:
        names = [n.strip() for n in dims_arg.split(",")]
        for n in names:
            if n not in ACTION_NAMES:
                raise BadInput(f"--action-dims {dims_arg}: '{n}' is not an axis name (expected names from "
                               f"{', '.join(ACTION_NAMES)})")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise BadInput(f"--action-dims {dims_arg}: '{repeated[0]}' is named more than once")
    sizes = []      # (N, option) from what was given
    if stats is not None:
        sizes.append((len(stats[0]), "--action-stats"))
    if names is not None:
        sizes.append((len(names), "--action-dims"))
    if frameskip is not None:
        if frameskip < 1 or input_dim % frameskip:
            raise BadInput(f"--frameskip {frameskip}: does not divide config.json action_encoder.input_dim {input_dim} "
                           f"(= frameskip x action dims)")
        how = f"--frameskip {frameskip}"
    elif input_dim % DEFAULT_FRAMESKIP == 0:
        frameskip, how = DEFAULT_FRAMESKIP, "stable-worldmodel's default; a checkpoint does not record it"
    elif sizes and input_dim % sizes[0][0] == 0:
        frameskip = input_dim // sizes[0][0]
        how = f"action_encoder.input_dim {input_dim} / {sizes[0][0]} dims from {sizes[0][1]}"
    else:
        raise BadInput(f"config.json action_encoder.input_dim {input_dim} (= frameskip x action dims) is not a multiple "
                       f"of the default frameskip {DEFAULT_FRAMESKIP}, and a checkpoint does not record its frameskip: "
                       f"give --frameskip (or --action-stats / --action-dims, whose length gives it)")
    n = input_dim // frameskip
    for size, option in sizes:
        if size != n:
            hint = (f"; if its frameskip is {input_dim // size}, give --frameskip {input_dim // size}"
                    if input_dim % size == 0 and not how.startswith("--frameskip") else "")
            raise BadInput(f"{option} gives {size} action dim{'s' if size != 1 else ''}, the checkpoint has {n} "
                           f"(config.json action_encoder.input_dim {input_dim} / frameskip {frameskip}: {how}){hint}")
    if n > len(ACTION_NAMES):
        raise BadInput(f"the checkpoint's actions have {n} dims (action_encoder.input_dim {input_dim} / frameskip "
                       f"{frameskip}); robotctl's actions have {len(ACTION_NAMES)} ({', '.join(ACTION_NAMES)})")
    return frameskip, n, names or ACTION_NAMES[:n], how


# ----------------------------------------------------------------------------------------------- graphs

class EncoderGraph(torch.nn.Module):
    """pixels [B, 3, H, W] (normalised) -> latent [B, D] = projector(ViT CLS token)."""

    def __init__(self, model: lm.LeWM):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode(pixels)


class PredictorGraph(torch.nn.Module):
    """latents [B, T, D], actions [B, T, block*7] (normalised, dimension-fastest) -> next_latents [B, T, D]:
    gathers the checkpoint's dims into its [block*N] layout, then action encoder, predictor, pred_proj."""

    def __init__(self, model: lm.LeWM, block: int, axes: list[int]):
        super().__init__()
        self.model = model
        index = [k * len(ACTION_NAMES) + a for k in range(block) for a in axes]
        self.gather = index != list(range(block * len(ACTION_NAMES)))
        self.register_buffer("index", torch.tensor(index, dtype=torch.long), persistent=False)

    def gather_actions(self, actions: torch.Tensor) -> torch.Tensor:
        """[.., block*7] in robotctl's order -> [.., block*N] in the checkpoint's."""
        return actions.index_select(-1, self.index) if self.gather else actions

    def forward(self, latents: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.model.predict(latents, self.gather_actions(actions))


def export(module: torch.nn.Module, args: tuple, path: Path, inputs: list, outputs: list, axes: dict) -> None:
    """torch.onnx.export (TorchScript tracing, as make_models.py; torch >= 2.5 is told dynamo=False, since its newer
    default exporter takes dynamic_shapes instead), onnx.checker full check, names/float32/symbolic axes verified."""
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
        torch.onnx.export(module, args, buffer, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=make_models.OPSET, do_constant_folding=True, **kwargs)
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model, full_check=True)
    make_models._check_signature(model, inputs, outputs, axes, path)
    path.write_bytes(buffer.getvalue())


# ----------------------------------------------------------------------------------------------- manifest

def _mlp_flops(m: lm.MlpSpec | None, rows: int) -> int:
    return 0 if m is None else 2 * rows * (m.input_dim * m.hidden_dim + m.hidden_dim * m.output_dim)


def flops(spec: lm.LewmSpec, history: int) -> dict:
    """Multiply-adds x 2 of every matrix product and convolution, as make_models.flops counts them (norms, softmax
    and elementwise ops not counted; attention over the full L x L matrix)."""
    v = spec.encoder
    tokens = v.patches + 1
    encoder = (2 * v.patches * v.channels * v.patch * v.patch * v.hidden
               + v.layers * (make_models._attention_flops(tokens, v.hidden, v.hidden)
                             + 2 * 2 * tokens * v.hidden * v.intermediate)
               + _mlp_flops(spec.projector, 1))
    e, p = spec.action_encoder, spec.predictor
    inner = p.heads * p.dim_head
    per_step = {}
    for t in range(1, history + 1):
        total = 2 * t * (e.input_dim * e.smoothed_dim + e.smoothed_dim * e.mlp_scale * e.emb_dim
                         + e.mlp_scale * e.emb_dim * e.emb_dim)
        if p.input_dim != p.hidden_dim:
            total += 2 * 2 * t * p.input_dim * p.hidden_dim                  # input_proj + cond_proj
        attention = 2 * t * p.hidden_dim * 3 * inner + 2 * 2 * t * t * inner
        if not (p.heads == 1 and p.dim_head == p.hidden_dim):
            attention += 2 * t * inner * p.hidden_dim
        total += p.depth * (2 * t * p.hidden_dim * 6 * p.hidden_dim + attention + 2 * 2 * t * p.hidden_dim * p.mlp_dim)
        if p.hidden_dim != p.output_dim:
            total += 2 * t * p.hidden_dim * p.output_dim
        per_step[str(t)] = total + _mlp_flops(spec.pred_proj, t)
    return {"encoder_per_image": encoder, "predictor_per_sample": per_step}


def manifest(name: str, spec: lm.LewmSpec, history: int, block: int, ckpt_names: list, stats,
             provenance: dict) -> dict:
    mean, std = [0.0] * len(ACTION_NAMES), [1.0] * len(ACTION_NAMES)
    for j, axis in enumerate(ckpt_names):
        i = ACTION_NAMES.index(axis)
        if stats is not None:
            mean[i], std[i] = stats[0][j], stats[1][j]
    size = spec.encoder.image_size
    return {
        "format": 1,
        "name": name,
        "family": "lewm",
        "image": {"width": size, "height": size, "scale": 255.0, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        "encoder": {"file": "encoder.onnx", "input": "pixels", "output": "latent"},
        "predictor": {"file": "predictor.onnx", "latents": "latents", "actions": "actions", "states": None,
                      "output": "next_latents", "history": history, "shared_context": shared_context.manifest_entry()},
        "latent": {"shape": [spec.latent_dim]},
        "action": {"dim": len(ACTION_NAMES), "block": block, "mean": mean, "std": std,
                   "search": [a in ckpt_names for a in ACTION_NAMES], "checkpoint_dims": list(ckpt_names)},
        "state": None,
        "planner": dict(PLANNER),
        "flops": flops(spec, history),
        "import": provenance,
    }


# ----------------------------------------------------------------------------------------------- main

def import_checkpoint(args) -> dict:
    """Validates everything silently (so bad input is one line), then exports. Returns the summary facts."""
    start = time.time()
    out = args.out.resolve() if args.out.is_absolute() else (Path.cwd() / args.out)
    check_out(out)
    if args.model_check:
        model_check.command()   # no robotctl to check the result: say so now, not after the conversion
    folder, weights, config_path = find_checkpoint(args.checkpoint)
    config = read_config(config_path)
    try:
        spec = lm.parse_config(config)
    except lm.CheckpointError as e:   # "config.json <field>: ..." -> "<path>/config.json <field>: ..."
        text = str(e)
        raise BadInput(f"{config_path}{text[len('config.json'):]}" if text.startswith("config.json") else text) from None
    frames = spec.predictor.num_frames
    history = frames if args.history is None else args.history
    if not 1 <= history <= frames:
        raise BadInput(f"--history {history}: expected 1..{frames} (config.json predictor.num_frames {frames})")
    state = load_weights(weights)
    model = lm.build(spec)
    check_state_dict(model, state, weights)
    stats = None
    if args.action_stats is not None:
        mean, std, stats_info = read_action_stats(args.action_stats)
        stats = (mean, std)
    frameskip, n, ckpt_names, frameskip_how = resolve_actions(spec.action_encoder.input_dim, args.frameskip, stats,
                                                              args.action_dims)
    name = args.name or out.name
    if not name:
        raise BadInput("--name: empty")

    # ---- inputs are good: from here on, progress lines and (internal) failures only
    log(f"lewm import: {folder} -> {out}")
    log(f"  config.json: {spec.targets['model']}; encoder vit_hf size '{spec.encoder.size}' -> {spec.encoder.hidden} wide, "
        f"{spec.encoder.layers} layers, {spec.encoder.heads} heads, patch {spec.encoder.patch} at {spec.encoder.image_size}; "
        f"predictor {spec.predictor.depth} x {spec.predictor.heads} heads x {spec.predictor.dim_head}, "
        f"num_frames {frames}; latent [{spec.latent_dim}]")
    log(f"  {weights.name}: {len(state)} tensors, {lm.parameter_count(model):,} parameters, loaded strictly")
    log(f"  actions: {n} checkpoint dim{'s' if n != 1 else ''} ({', '.join(ckpt_names)}) x frameskip {frameskip} "
        f"[frameskip: {frameskip_how}]; the predictor graph takes {frameskip} x {len(ACTION_NAMES)}")
    if spec.encoder.pretrained and spec.encoder.ignored:
        log(f"  note: encoder pretrained true: vit_hf ignores {', '.join(spec.encoder.ignored)} then, and so does this import")
    if spec.ignored_keys:
        log(f"  note: config.json keys LeWM ignores (**kwargs): {', '.join(spec.ignored_keys)}")
    if stats is None:
        log("  warning: no --action-stats: action.mean 0 and std 1, so the planner's actions are taken as already "
            "normalised (give the training data's statistics to plan in physical units)")
        stats_info = None
    else:
        log(f"  action stats ({stats_info['format']}): mean {[round(x, 6) for x in stats[0]]}, std "
            f"{[round(x, 6) for x in stats[1]]}")
        for i in stats_info.get("constant_dims", []):
            log(f"  warning: action dim {i} ({ckpt_names[i]}) is constant in {args.action_stats}: std clamped to 1e-8 as "
                f"their normaliser does; the model never saw it vary")

    threads = min(4, os.cpu_count() or 1)
    torch.set_num_threads(threads)
    provenance = {
        "script": SCRIPT,
        "source": str(folder.resolve()),
        "weights": weights.name,
        "weights_sha256": sha256(weights),
        "config_sha256": sha256(config_path),
        "targets": spec.targets,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "frameskip": frameskip,
        "frameskip_from": frameskip_how,
        "action_stats": stats_info,
        "weights_dtypes": sorted({str(v.dtype).replace("torch.", "") for v in state.values() if v.is_floating_point()}),
        "parameters": {"encoder": lm.parameter_count(model.encoder) + lm.parameter_count(model.projector),
                       "predictor": lm.parameter_count(model.predictor) + lm.parameter_count(model.action_encoder)
                       + lm.parameter_count(model.pred_proj)},
    }
    if spec.ignored_keys:
        provenance["ignored_config_keys"] = spec.ignored_keys
    document = manifest(name, spec, history, frameskip, ckpt_names, stats, provenance)
    del state

    encoder = EncoderGraph(model).eval()
    predictor = PredictorGraph(model, frameskip, [ACTION_NAMES.index(a) for a in ckpt_names]).eval()
    shape_cfg = SimpleNamespace(image_size=spec.encoder.image_size, action_block=frameskip,
                                action_dim=len(ACTION_NAMES), history=history, latent_shape=[spec.latent_dim])

    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.parent / f".{out.name}.lewm-import-{os.getpid()}"
    if temp.exists():
        shutil.rmtree(temp)
    temp.mkdir()
    try:
        make_models.write_json(temp / "model.json", document)
        t = time.time()
        export(encoder, (torch.zeros(2, 3, spec.encoder.image_size, spec.encoder.image_size),), temp / "encoder.onnx",
               ["pixels"], ["latent"], {"pixels": {0: "batch"}, "latent": {0: "batch"}})
        log(f"  encoder.onnx: {(temp / 'encoder.onnx').stat().st_size / 1e6:.2f} MB ({time.time() - t:.1f} s)")
        t = time.time()
        # Traced at B=2, T=2 (neither 1 nor the maximum), so a size frozen by tracing breaks other T's references.
        names = ["latents", "actions", "next_latents"]
        export(predictor, (torch.zeros(2, 2, spec.latent_dim), torch.zeros(2, 2, frameskip * len(ACTION_NAMES))),
               temp / "predictor.onnx", names[:2], names[2:], {n: {0: "batch", 1: "time"} for n in names})
        log(f"  predictor.onnx: {(temp / 'predictor.onnx').stat().st_size / 1e6:.2f} MB ({time.time() - t:.1f} s)")
        t = time.time()
        error = shared_context.export(predictor, [spec.latent_dim], frameskip * len(ACTION_NAMES),
                                      temp / shared_context.FILE, export)
        log(f"  {shared_context.FILE}: {(temp / shared_context.FILE).stat().st_size / 1e6:.2f} MB, matches the predictor "
            f"to {error:.1e} relative ({time.time() - t:.1f} s)")
        t = time.time()
        make_models.write_references(temp, encoder, predictor, shape_cfg, big_batch=False)
        cases = json.loads((temp / "reference" / "reference.json").read_text())["cases"]
        log(f"  reference/: {len(cases)} cases ({time.time() - t:.1f} s)")
        parity, seconds = check_result(temp, args.model_check, len(cases))
        log(f"  {parity} ({seconds:.1f} s)" if seconds is not None else f"  {parity}")
        if out.exists():
            out.rmdir()            # empty (checked above)
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"out": out, "name": name, "spec": spec, "history": history, "frameskip": frameskip, "names": ckpt_names,
            "parity": parity, "seconds": time.time() - start, "disk": disk,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "params": provenance["parameters"]}


def main(argv=None) -> int:
    code, facts = guarded("lewm import: ", lambda: import_checkpoint(parse_args(sys.argv[1:] if argv is None else argv)))
    if code != 0:
        return code
    s = facts["spec"]
    print(f"{facts['out']}: model '{facts['name']}' (lewm), image {s.encoder.image_size}x{s.encoder.image_size}, "
          f"latent [{s.latent_dim}], history {facts['history']}, action block {facts['frameskip']} x 7 "
          f"(checkpoint dims {', '.join(facts['names'])}), {facts['params']['encoder']:,} + "
          f"{facts['params']['predictor']:,} params")
    print(f"  {facts['parity']}; {facts['disk'] / 1e6:.1f} MB on disk, {facts['seconds']:.1f} s, "
          f"peak memory {facts['peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
