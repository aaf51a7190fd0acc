"""Imports a facebookresearch/vjepa2 V-JEPA 2-AC checkpoint into robotctl's model contract (see models/README.md).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.vjepa2ac_import CHECKPOINT.pt --out MODEL_DIR [--arch ARCH.json]
        [--name NAME] [--no-model-check]

CHECKPOINT.pt holds {"encoder": state dict, "predictor": state dict} (other top-level keys are ignored), as the
published vjepa2-ac-vitg.pt; keys may carry `module.` / `backbone.` (removed as their hub loader's _clean_backbone_key
does: every occurrence). Without --arch the modules are the published configuration (src/hub/backbones.py
_make_vjepa2_ac_model: vit_giant_xformers, 256 x 256, patch 16, 64 frames, tubelet 2, RoPE; vit_ac_predictor 1024 wide,
24 deep, 16 heads). --arch names their constructors and arguments for other sizes:
  {"encoder": {"name": "vit_tiny" | ... | "vit_giant_xformers" | "VisionTransformer", "kwargs": {...}},
   "predictor": {"name": "vit_ac_predictor" | "VisionTransformerPredictorAC", "kwargs": {...}}}
(other top-level keys are ignored; arguments are honoured as their constructors honour them, see vjepa2ac_modules.py).

MODEL_DIR gets model.json, encoder.onnx (pixels [B,3,H,W] -> latent [B,N,D], layer-normed as their world model wrapper
does), predictor.onnx (latents [B,T,N,D], actions [B,T,7], states [B,T,7] -> next_latents [B,T,N,D]; T dynamic,
1..num_frames // tubelet_size), reference/ parity cases, which `robotctl model check` then runs through ONNX Runtime
(a built robotctl is needed; robotctl model import passes --no-model-check and runs that check itself). A graph whose weights exceed 1.5 GB (the ViT-g encoder: ~4 GB) is written with its weights as
external data in one file beside it (encoder.onnx.data); ONNX Runtime finds it by the graph's path.

Bad input (missing or unreadable checkpoint, not a torch file, no encoder/predictor, keys or shapes that disagree with
the configuration, bad --arch, an --out that exists and is not empty): one line `vjepa2-ac import: ...` on stderr,
exit 2, and no MODEL_DIR (everything is written into a temporary folder beside it and renamed at the end). Exit 1: an
internal failure (export, parity). Progress on stderr, a two-line summary on stdout.
"""
from __future__ import annotations

import argparse
import gc
import inspect
import io
import json
import os
import resource
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from . import make_models, model_check
from . import vjepa2ac_modules as vm
from .importing import (BadInput, Parser, add_check_argument, check_keys_and_shapes, check_out, check_result, guarded,
                        log, sha256, torch_load)

SCRIPT = "models/robotctl_models/vjepa2ac_import.py"
PREFIX = "vjepa2-ac import: "
# Their transform (app/vjepa_droid/transforms.py make_transforms, as the energy-landscape notebook builds it for the
# world model: no augmentation, crop_size 256): random_resized_crop with scale (1, 1) and ratio (1, 1) = the centred
# square of the image resized (bilinear) to crop_size, then (x - 255 * mean) / (255 * std) with ImageNet's statistics.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# Their MPC: notebooks/utils/world_model_wrapper.py WorldModel's default mpc_args (rollout 2, samples 400, topk 10,
# cem_steps 10, momentum_mean 0.15, momentum_std 0.15, maxnorm 0.05) into notebooks/utils/mpc_utils.py cem (whose own
# defaults give momentum_mean_gripper 0.15, momentum_std_gripper 0.15). The energy is l1 (mean |a - b| over every token
# and channel of the last predicted frame); cem returns its final mean (momentum-blended, no elite carried over), the
# gripper rounded to 0 below 0.25 in magnitude; the first action is executed and the plan redone (receding 1).
# init_std is their maxnorm (metres: actions are raw), init_std_per_dim their initial spread per dimension (maxnorm
# for xyz, 1 for the gripper); every plan starts from mean 0 (warm_start false) and every sample is drawn (mean_sample
# false). See models/README.md for every knob and what robotctl does.
PLANNER = {"solver": "cem", "cost": "l1", "samples": 400, "topk": 10, "iterations": 10, "horizon": 2, "receding": 1,
           "init_std": 0.05, "init_std_per_dim": [0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 1.0],
           "cost_shape": "last", "execute": "mean", "elitism": False, "warm_start": False, "mean_sample": False,
           "mean_momentum": 0.15, "std_momentum": 0.15, "gripper_deadband": 0.25,
           "context_frames": 1}   # their MPC plans from the current frame (and state) alone
SEARCH = [True, True, True, False, False, False, True]        # cem zeroes the rotation deltas
EXTERNAL_BYTES = 1.5e9                                        # weights above this go to external data (2 GB limit)
IN_MEMORY_BYTES = 1e8                                         # graphs above this are exported through a file


def parse_args(argv) -> argparse.Namespace:
    parser = Parser(prog="python3 -m robotctl_models.vjepa2ac_import", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="the .pt file holding {encoder, predictor} state dicts")
    parser.add_argument("--out", type=Path, required=True, help="model directory to create (must not exist, or be empty)")
    parser.add_argument("--arch", type=Path, help="JSON naming the authors' constructors and arguments (default: the "
                                                  "published ViT-g AC configuration)")
    parser.add_argument("--name", help="model name in model.json (default: the --out folder's name)")
    parser.add_argument("--external-data", choices=["auto", "always", "never"], default="auto",
                        help="store graph weights in a .data file beside the graph: auto = above 1.5 GB (default)")
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="PyTorch threads")
    add_check_argument(parser)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------------------- reading inputs

def read_arch(path: Path | None) -> tuple[dict, str]:
    if path is None:
        return json.loads(json.dumps(vm.PUBLISHED)), "published (src/hub/backbones.py _make_vjepa2_ac_model)"
    if not path.is_file():
        raise BadInput(f"--arch {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"--arch {path}: cannot be read ({e})") from None
    try:
        arch = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"--arch {path}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    return arch, str(path.resolve())


def load_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise BadInput(f"checkpoint {path}: no such file")
    if not path.is_file():
        raise BadInput(f"checkpoint {path}: not a file (expected the .pt holding {{\"encoder\", \"predictor\"}})")
    data = torch_load(path, f"checkpoint {path}", "torch file")
    if not isinstance(data, dict):
        raise BadInput(f"checkpoint {path}: expected a dict {{\"encoder\": state dict, \"predictor\": state dict}}, found "
                       f"{type(data).__name__}")
    missing = [k for k in ("encoder", "predictor") if k not in data]
    if missing:
        found = ", ".join(map(str, list(data)[:8])) or "nothing"
        raise BadInput(f"checkpoint {path}: no {' and no '.join(repr(k) for k in missing)} key (expected "
                       f"{{\"encoder\": state dict, \"predictor\": state dict}}, found keys: {found})")
    for k in ("encoder", "predictor"):
        v = data[k]
        if not isinstance(v, dict) or not v or not all(isinstance(n, str) and torch.is_tensor(t) for n, t in v.items()):
            raise BadInput(f"checkpoint {path} [{k!r}]: expected a state dict (names to tensors), found "
                           f"{type(v).__name__}{' (empty)' if isinstance(v, dict) and not v else ''}")
    return data


def clean_keys(state: dict, where: str) -> dict:
    """_clean_backbone_key: every "module." and "backbone." removed from each key; a collision is refused (theirs would
    keep whichever came last)."""
    out = {}
    for key, value in state.items():
        clean = key.replace("module.", "").replace("backbone.", "")
        if clean in out:
            raise BadInput(f"{where}: two keys become '{clean}' once 'module.'/'backbone.' are removed (the second is "
                           f"'{key}')")
        out[clean] = value
    return out


def check_state(module: torch.nn.Module, state: dict, where: str, what: str, ignorable=()) -> list:
    """Strict key and shape agreement with the module the configuration builds. Returns the ignored keys."""
    expected = module.state_dict()
    ignored = check_keys_and_shapes(expected, state, where, what, what, ignorable)
    for k in expected:
        v = state[k]
        if not v.is_floating_point():
            raise BadInput(f"{where} {k}: expected floating-point weights, found {str(v.dtype).replace('torch.', '')}")
        if not torch.isfinite(v).all():
            bad = int((~torch.isfinite(v)).sum())
            raise BadInput(f"{where} {k}: {bad} non-finite value{'s' if bad != 1 else ''}")
    return ignored


def as_float32(state: dict, keys) -> tuple[dict, list]:
    dtypes = sorted({str(state[k].dtype).replace("torch.", "") for k in keys})
    return {k: state[k].float().contiguous() for k in keys}, dtypes


# ----------------------------------------------------------------------------------------------- export

def export(module: torch.nn.Module, args: tuple, path: Path, inputs: list, outputs: list, axes: dict,
           external: bool, size: int) -> None:
    """torch.onnx.export (TorchScript tracing, opset 17; torch >= 2.5 is told dynamo=False), onnx.checker full check,
    names / float32 / symbolic axes verified. Graphs of `size` >= 100 MB go through a file (no extra protobuf copies in
    Python). external: the graph is exported without its weights (they become inputs named by the state dict), then
    every weight is streamed from the module into one `<name>.data` beside the graph and turned into an initializer
    that points there; torch's own serialisation of a graph's weights costs ~2.3 x their size in memory (measured:
    +4.6 GB for a 2 GB encoder), this costs one tensor at a time."""
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    common = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=make_models.OPSET,
                  do_constant_folding=True, **kwargs)

    def run(target, export_params=True):
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", category=UserWarning)
            torch.onnx.export(module, args, target, export_params=export_params, **common)

    if external:
        buffer = io.BytesIO()
        run(buffer, export_params=False)
        model = onnx.load_from_string(buffer.getvalue())
        del buffer
        attach_external_weights(model, module, path, inputs)
    elif size < IN_MEMORY_BYTES:
        buffer = io.BytesIO()
        run(buffer)
        model = onnx.load_from_string(buffer.getvalue())
        onnx.checker.check_model(model, full_check=True)
        make_models._check_signature(model, inputs, outputs, axes, path)
        path.write_bytes(buffer.getvalue())
        return
    else:
        run(str(path))
    onnx.checker.check_model(str(path), full_check=True)
    make_models._check_signature(onnx.load(str(path), load_external_data=False), inputs, outputs, axes, path)


def attach_external_weights(model: onnx.ModelProto, module: torch.nn.Module, path: Path, inputs: list) -> None:
    """The weight inputs of a graph exported with export_params=False (named by the module's state dict) become
    initializers whose bytes are appended, 64-byte aligned, to `<path>.data`; the graph is written to `path`."""
    state = module.state_dict()
    data_name = path.name + ".data"
    kept, offset = [], 0
    with open(path.parent / data_name, "wb") as out:
        for value in model.graph.input:
            if value.name in inputs:
                kept.append(value)
                continue
            if value.name not in state:
                raise RuntimeError(f"{path.name}: graph input '{value.name}' is neither a declared input nor a weight")
            array = state[value.name].detach().contiguous().numpy()
            if array.dtype != np.float32:
                raise RuntimeError(f"{path.name}: weight '{value.name}' is {array.dtype}, expected float32")
            pad = (-offset) % 64
            out.write(b"\0" * pad)
            offset += pad
            out.write(array.data)
            tensor = onnx.TensorProto(name=value.name, data_type=onnx.TensorProto.FLOAT, dims=list(array.shape))
            for key, text in (("location", data_name), ("offset", str(offset)), ("length", str(array.nbytes))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, text
            tensor.data_location = onnx.TensorProto.EXTERNAL
            model.graph.initializer.append(tensor)
            offset += array.nbytes
    del model.graph.input[:]
    model.graph.input.extend(kept)
    path.write_bytes(model.SerializeToString())


def formula_input(shape, offset: float) -> np.ndarray:
    return make_models.formula_input(shape, offset)


def reference_cases(enc: vm.EncoderSpec, history: int) -> list:
    """Encoder at B=1; predictor at B=1 for T = 1..min(history, 4) and B=2 at T = min(history, 2) (models/README.md's
    reference format, checked by `robotctl model check`)."""
    image = [3, enc.img_h, enc.img_w]
    latent = [enc.tokens, enc.embed_dim]
    runs = [(1, t) for t in range(1, min(history, 4) + 1)] + [(2, min(history, 2))]
    cases = [{"name": "encoder_b1", "graph": "encoder", "inputs": {"pixels": {"shape": [1] + image, "offset": 0.1}}}]
    for b, t in runs:
        cases.append({"name": f"predictor_b{b}_T{t}", "graph": "predictor", "inputs": {
            "latents": {"shape": [b, t] + latent, "offset": 0.2},
            "actions": {"shape": [b, t, vm.ACTION_DIM], "offset": 0.3},
            "states": {"shape": [b, t, vm.ACTION_DIM], "offset": 0.4}}})
    return cases


def run_references(directory: Path, module, graph: str, cases: list) -> None:
    """Computes the cases of one graph with PyTorch: one raw little-endian float32 file each, in reference/."""
    out = directory / "reference"
    out.mkdir(parents=True, exist_ok=True)
    name = "latent" if graph == "encoder" else "next_latents"
    with torch.no_grad():
        for case in (c for c in cases if c["graph"] == graph):
            args = [torch.from_numpy(formula_input(s["shape"], s["offset"])) for s in case["inputs"].values()]
            result = module(*args).numpy().astype("<f4")
            if not np.isfinite(result).all():
                raise RuntimeError(f"{case['name']}: non-finite reference output")
            file = case["name"] + ".bin"
            (out / file).write_bytes(result.tobytes())
            case["output"] = {"name": name, "shape": list(result.shape), "file": file,
                              "max_abs": float(np.abs(result).max())}


def write_reference_json(directory: Path, cases: list) -> None:
    make_models.write_json(directory / "reference" / "reference.json", {
        "formula": make_models.FORMULA,
        "formula_numpy": "np.sin(np.arange(n, dtype=np.float64) * 0.0137 + offset).astype(np.float32)",
        "dtype": "float32", "byte_order": "little", "layout": "row-major",
        "producer": f"PyTorch {torch.__version__}, eval mode, float32 (models/robotctl_models/vjepa2ac_modules.py)",
        "cases": cases})


# ----------------------------------------------------------------------------------------------- manifest

def manifest(name: str, enc: vm.EncoderSpec, pred: vm.PredictorSpec, provenance: dict) -> dict:
    return {
        "format": 1,
        "name": name,
        "family": "vjepa2-ac",
        "image": {"width": enc.img_w, "height": enc.img_h, "scale": 255.0, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        "encoder": {"file": "encoder.onnx", "input": "pixels", "output": "latent"},
        "predictor": {"file": "predictor.onnx", "latents": "latents", "actions": "actions", "states": "states",
                      "output": "next_latents", "history": pred.max_frames},
        "latent": {"shape": [enc.tokens, enc.embed_dim]},
        "action": {"dim": vm.ACTION_DIM, "block": 1, "mean": [0.0] * vm.ACTION_DIM, "std": [1.0] * vm.ACTION_DIM,
                   "search": list(SEARCH)},
        "state": {"dim": vm.ACTION_DIM, "integrate": "ee-pose-euler-xyz"},
        "planner": dict(PLANNER, horizon=min(PLANNER["horizon"], pred.max_frames),
                        receding=min(PLANNER["receding"], pred.max_frames)),
        "flops": vm.flops(enc, pred, pred.max_frames),
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
    arch, arch_from = read_arch(args.arch)
    try:
        enc, pred = vm.resolve(arch)
    except vm.ArchError as e:
        raise BadInput(f"--arch {args.arch}: {e}" if args.arch else f"the published configuration: {e}") from None
    name = args.name if args.name is not None else out.name
    if not name:
        raise BadInput("--name: empty")
    data = load_checkpoint(args.checkpoint)
    ckpt = args.checkpoint
    what = f"{'--arch' if args.arch else 'the published'} {enc.name}"
    hint = "" if args.arch else " (the published ViT-g AC configuration; --arch names other sizes)"
    encoder, predictor = vm.build(enc, pred, device="meta")
    enc_state = clean_keys(data["encoder"], f"checkpoint {ckpt} ['encoder']")
    # Their hub loader loads the encoder with strict=False: the published encoder carries a sincos pos_embed its RoPE
    # model does not use. That one key is ignored as theirs ignores it; any other disagreement is refused.
    ignored = check_state(encoder, enc_state, f"checkpoint {ckpt} ['encoder']", f"the encoder {what} builds{hint}",
                          ignorable=("pos_embed",) if enc.use_rope else ())
    pred_state = clean_keys(data["predictor"], f"checkpoint {ckpt} ['predictor']")
    check_state(predictor, pred_state, f"checkpoint {ckpt} ['predictor']", f"the predictor {pred.name} builds{hint}")
    enc_state, enc_dtypes = as_float32(enc_state, encoder.state_dict().keys())
    pred_state, pred_dtypes = as_float32(pred_state, predictor.state_dict().keys())
    others = sorted(str(k) for k in data if k not in ("encoder", "predictor"))
    del data
    vm.adopt(encoder, enc_state)
    vm.adopt(predictor, pred_state)
    del enc_state, pred_state
    gc.collect()

    # ---- inputs are good: from here on, progress lines and (internal) failures only
    log(f"{PREFIX}{ckpt} -> {out}")
    log(f"  arch ({arch_from}): encoder {enc.name} {enc.embed_dim} wide, {enc.depth} deep, {enc.num_heads} heads, patch "
        f"{enc.patch} at {enc.img_h}x{enc.img_w} ({enc.tokens} tokens), rope {enc.use_rope}, LayerNorm eps "
        f"{enc.norm_eps:g}; predictor {pred.name} {pred.width} wide, {pred.depth} deep, {pred.num_heads} heads, "
        f"{pred.max_frames} frames max")
    log(f"  weights: encoder {vm.parameter_count(encoder):,} + predictor {vm.parameter_count(predictor):,} parameters "
        f"({', '.join(sorted(set(enc_dtypes + pred_dtypes)))}), loaded strictly ({memory()})")
    for spec, label in ((enc, "encoder"), (pred, "predictor")):
        if spec.ignored:
            log(f"  note: {label} arguments their **kwargs swallows (no effect): {', '.join(spec.ignored)}")
        if spec.drop_rate > 0:
            log(f"  warning: {label} drop_rate {spec.drop_rate:g}: their SDPA applies it as attention dropout even in "
                f"eval (a random model at inference); the graphs are deterministic (its expectation)")
    if ignored:
        log(f"  note: encoder key{'s' if len(ignored) > 1 else ''} {', '.join(ignored)} ignored (RoPE model; their hub "
            f"loader's strict=False skips {'them' if len(ignored) > 1 else 'it'} too)")
    if others:
        log(f"  note: other checkpoint entries not read: {', '.join(others[:8])}")

    torch.set_num_threads(max(1, args.threads))
    vm.transpose_linears(encoder)          # W^T stored once: no folded second copy while exporting (see TransposedLinear)
    vm.transpose_linears(predictor)
    enc_bytes = 4 * vm.parameter_count(encoder)
    pred_bytes = 4 * vm.parameter_count(predictor)
    external = {g: (args.external_data == "always" or (args.external_data == "auto" and b > EXTERNAL_BYTES))
                for g, b in (("encoder", enc_bytes), ("predictor", pred_bytes))}
    provenance = {
        "script": SCRIPT,
        "source": str(ckpt.resolve()),
        "checkpoint_sha256": sha256(ckpt),
        "arch": arch,
        "arch_from": arch_from,
        "resolved": {"encoder": vm.spec_dict(enc), "predictor": vm.spec_dict(pred)},
        "authors": {"repository": "facebookresearch/vjepa2", "commit": "c2963a47433ecca0ad4f06ec28bcfa8cb5b5cefb",
                    "files": ["src/models/vision_transformer.py", "src/models/ac_predictor.py",
                              "src/models/utils/modules.py", "src/hub/backbones.py",
                              "notebooks/utils/world_model_wrapper.py", "notebooks/utils/mpc_utils.py"]},
        "representation_norm": {"eps": vm.REPRESENTATION_EPS, "affine": False,
                                "model_layernorm_eps": {"encoder": enc.norm_eps, "predictor": pred.norm_eps}},
        "ignored_encoder_keys": ignored,
        "weights_dtypes": sorted(set(enc_dtypes + pred_dtypes)),
        "parameters": {"encoder": vm.parameter_count(encoder), "predictor": vm.parameter_count(predictor)},
        "external_data": [f"{g}.onnx.data" for g, e in external.items() if e],
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    }
    document = manifest(name, enc, pred, provenance)

    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.parent / f".{out.name}.vjepa2ac-import-{os.getpid()}"
    if temp.exists():
        shutil.rmtree(temp)
    temp.mkdir()
    timings = {}
    try:
        make_models.write_json(temp / "model.json", document)
        cases = reference_cases(enc, pred.max_frames)
        # One graph at a time: the encoder is exported, its reference computed, and its weights freed before the
        # predictor's turn (the ViT-g encoder alone is 4 GB).
        t = time.time()
        export(encoder, (torch.zeros(2, 3, enc.img_h, enc.img_w),), temp / "encoder.onnx", ["pixels"], ["latent"],
               {"pixels": {0: "batch"}, "latent": {0: "batch"}}, external["encoder"], enc_bytes)
        timings["encoder_export_s"] = round(time.time() - t, 1)
        log(f"  encoder.onnx: {graph_mb(temp / 'encoder.onnx'):.2f} MB ({timings['encoder_export_s']} s; {memory()})")
        t = time.time()
        run_references(temp, encoder, "encoder", cases)
        timings["encoder_reference_s"] = round(time.time() - t, 1)
        del encoder
        release_memory()
        t = time.time()
        # Traced at B=2, T=2 (neither 1 nor the maximum), so a size frozen by tracing breaks other T's references.
        t2 = min(2, pred.max_frames)
        names = ["latents", "actions", "states", "next_latents"]
        export(predictor, (torch.zeros(2, t2, enc.tokens, enc.embed_dim), torch.zeros(2, t2, vm.ACTION_DIM),
                           torch.zeros(2, t2, vm.ACTION_DIM)),
               temp / "predictor.onnx", names[:3], names[3:], {n: {0: "batch", 1: "time"} for n in names},
               external["predictor"], pred_bytes)
        timings["predictor_export_s"] = round(time.time() - t, 1)
        log(f"  predictor.onnx: {graph_mb(temp / 'predictor.onnx'):.2f} MB ({timings['predictor_export_s']} s; {memory()})")
        t = time.time()
        run_references(temp, predictor, "predictor", cases)
        write_reference_json(temp, cases)
        timings["predictor_references_s"] = round(time.time() - t, 1)
        log(f"  reference/: {len(cases)} cases ({timings['encoder_reference_s']} + {timings['predictor_references_s']} s; "
            f"{memory()})")
        del predictor
        release_memory()
        parity, seconds = check_result(temp, args.model_check, len(cases))
        if seconds is not None:
            timings["onnxruntime_check_s"] = round(seconds, 1)
            log(f"  {parity} ({timings['onnxruntime_check_s']} s; {memory()})")
        else:
            log(f"  {parity}")
        if out.exists():
            out.rmdir()            # empty (checked above)
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"out": out, "name": name, "enc": enc, "pred": pred, "parity": parity, "seconds": time.time() - start,
            "disk": disk, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "params": provenance["parameters"], "external": provenance["external_data"], "timings": timings}


def release_memory() -> None:
    """Frees what Python and torch released back to the system (glibc keeps freed heap otherwise), before ONNX Runtime
    loads the graphs."""
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory() -> str:
    """Resident and peak memory of this process so far, for the progress lines."""
    try:
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (OSError, ValueError, IndexError):
        rss = float("nan")
    return f"rss {rss:.2f} GB, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB"


def graph_mb(path: Path) -> float:
    data = path.parent / (path.name + ".data")
    return (path.stat().st_size + (data.stat().st_size if data.exists() else 0)) / 1e6


def main(argv=None) -> int:
    code, facts = guarded(PREFIX, lambda: import_checkpoint(parse_args(sys.argv[1:] if argv is None else argv)))
    if code != 0:
        return code
    e, p = facts["enc"], facts["pred"]
    print(f"{facts['out']}: model '{facts['name']}' (vjepa2-ac), image {e.img_h}x{e.img_w}, latent [{e.tokens}, "
          f"{e.embed_dim}], history {p.max_frames}, actions and states 7-D raw, {facts['params']['encoder']:,} + "
          f"{facts['params']['predictor']:,} params" + (f", external data: {', '.join(facts['external'])}"
                                                        if facts["external"] else ""))
    print(f"  {facts['parity']}; {facts['disk'] / 1e6:.1f} MB on disk, {facts['seconds']:.1f} s, "
          f"peak memory {facts['peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
