"""Generates the ONNX world models robotctl is tested and benchmarked with (see models/README.md).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.make_models          examples + broken models + matmul graph
  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.make_models --full   also models/lewm-full (LeWM-size, ~18M params)
  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.make_models --broken only the named parts (any of --examples,
                                                                            --broken, --matmul, --full)

Weights are random (fixed seeds; the output is deterministic for a given torch version). Every model directory
gets model.json (the contract plus "flops" and "generator"), encoder.onnx, predictor.onnx and reference/ with
PyTorch outputs for inputs defined by a formula (see write_references); `robotctl model check` then checks each
against its references with ONNX Runtime (model_check.py: robotctl must be built).
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

from . import arch, model_check, shared_context

REPO = Path(__file__).resolve().parents[2]
OPSET = 17
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# Plausible per-step action statistics of an end-effector arm: metres, radians, gripper fraction.
ACTION_STD_PHYSICAL = [0.02, 0.02, 0.02, 0.05, 0.05, 0.05, 0.2]
FORMULA = "sin(i*0.0137+offset)"

LEWM_SMALL = arch.LewmConfig(image_size=64, patch=8, width=64, enc_depth=2, enc_heads=4, enc_mlp=256,
                             proj_hidden=256, pred_depth=2, pred_heads=4, pred_head_dim=16, pred_mlp=256,
                             history=3, action_dim=7, action_block=5, action_hidden=128)
VJEPA_SMALL = arch.VjepaConfig(image_size=64, patch=16, width=32, enc_depth=2, enc_heads=4, enc_mlp=128,
                               pred_width=64, pred_depth=2, pred_heads=4, pred_mlp=256,
                               history=3, action_dim=7, action_block=1, state_dim=7)
LEWM_TINY = arch.LewmConfig(image_size=32, patch=8, width=16, enc_depth=1, enc_heads=2, enc_mlp=64,
                            proj_hidden=64, pred_depth=1, pred_heads=2, pred_head_dim=8, pred_mlp=64,
                            history=3, action_dim=7, action_block=5, action_hidden=32)
LEWM_FULL = arch.LewmConfig()   # LeWM's published sizes (ViT-Tiny/14 at 224, predictor 6 x 16 heads x 64)

SEEDS = {"lewm-small": 1001, "vjepa2ac-small": 2002, "good-tiny": 3003, "lewm-full": 4004}


def log(message: str) -> None:
    print(message, flush=True)


# ----------------------------------------------------------------------------------------------- FLOPs

def _attention_flops(length: int, width: int, inner: int) -> int:
    """qkv + scores + weighted sum + output projection, for one sequence of `length` tokens."""
    return 2 * length * width * 3 * inner + 2 * 2 * length * length * inner + 2 * length * inner * width


def _block_flops(length: int, width: int, inner: int, mlp: int) -> int:
    return _attention_flops(length, width, inner) + 2 * 2 * length * width * mlp


def flops(cfg) -> dict:
    """Multiply-adds x 2 of every matrix product and convolution (elementwise ops, norms and softmax are not
    counted). Attention is counted over the full L x L matrix, masked entries included, as a runtime computes it.
    """
    patches = (cfg.image_size // cfg.patch) ** 2
    patch_embed = 2 * patches * 3 * cfg.patch * cfg.patch * cfg.width
    if isinstance(cfg, arch.LewmConfig):
        tokens = patches + 1
        encoder = (patch_embed + cfg.enc_depth * _block_flops(tokens, cfg.width, cfg.width, cfg.enc_mlp)
                   + 2 * 2 * cfg.width * cfg.proj_hidden)
        per_step = {}
        inner = cfg.pred_heads * cfg.pred_head_dim
        for t in range(1, cfg.history + 1):
            action = 2 * t * (cfg.action_block * cfg.action_dim * cfg.action_smooth
                              + cfg.action_smooth * cfg.action_hidden + cfg.action_hidden * cfg.width)
            blocks = cfg.pred_depth * (_block_flops(t, cfg.width, inner, cfg.pred_mlp)
                                       + 2 * t * cfg.width * 6 * cfg.width)
            projector = 2 * 2 * t * cfg.width * cfg.proj_hidden
            per_step[str(t)] = action + blocks + projector
    else:
        encoder = patch_embed + cfg.enc_depth * _block_flops(patches, cfg.width, cfg.width, cfg.enc_mlp)
        per_step = {}
        group = patches + 2
        for t in range(1, cfg.history + 1):
            embed = 2 * t * (patches * cfg.width + cfg.action_block * cfg.action_dim + cfg.state_dim) * cfg.pred_width
            blocks = cfg.pred_depth * _block_flops(t * group, cfg.pred_width, cfg.pred_width, cfg.pred_mlp)
            out = 2 * t * patches * cfg.pred_width * cfg.width
            per_step[str(t)] = embed + blocks + out
    return {"encoder_per_image": encoder, "predictor_per_sample": per_step}


# ----------------------------------------------------------------------------------------------- export

def family(cfg) -> str:
    return "lewm" if isinstance(cfg, arch.LewmConfig) else "vjepa2-ac"


def has_states(cfg) -> bool:
    return isinstance(cfg, arch.VjepaConfig)


def export_encoder(encoder, cfg, path: Path) -> None:
    dummy = torch.zeros(2, 3, cfg.image_size, cfg.image_size)
    _export(encoder, (dummy,), path, ["pixels"], ["latent"],
            {"pixels": {0: "batch"}, "latent": {0: "batch"}})


def export_predictor(predictor, cfg, path: Path) -> None:
    # Traced at B=2, T=2 (neither 1 nor the maximum), so a size frozen by tracing breaks the T=1 and T=3 cases.
    b, t = 2, 2
    latents = torch.zeros(b, t, *cfg.latent_shape)
    actions = torch.zeros(b, t, cfg.action_block * cfg.action_dim)
    args, names = (latents, actions), ["latents", "actions"]
    if has_states(cfg):
        args, names = args + (torch.zeros(b, t, cfg.state_dim),), names + ["states"]
    axes = {n: {0: "batch", 1: "time"} for n in names + ["next_latents"]}
    _export(predictor, args, path, names, ["next_latents"], axes)


def export_shared_context(predictor, cfg, directory: Path) -> None:
    """predictor.shared.onnx (robotctl_models.shared_context), checked against the predictor in PyTorch first."""
    path = directory / shared_context.FILE
    error = shared_context.export(predictor, cfg.latent_shape, cfg.action_block * cfg.action_dim, path, _export)
    log(f"  {path.name}: {path.stat().st_size / 1e6:.2f} MB, matches the predictor to {error:.1e} (relative)")


def _export(module, args, path: Path, inputs, outputs, axes) -> None:
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, buffer, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model, full_check=True)
    _check_signature(model, inputs, outputs, axes, path)
    path.write_bytes(buffer.getvalue())


def _check_signature(model, inputs, outputs, axes, path: Path) -> None:
    """Names, float32 element types, and the dynamic axes really being symbolic in the saved graph."""
    values = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    for name in inputs + outputs:
        value = values.get(name)
        if value is None:
            raise RuntimeError(f"{path.name}: '{name}' missing from the exported graph")
        tensor = value.type.tensor_type
        if tensor.elem_type != TensorProto.FLOAT:
            raise RuntimeError(f"{path.name}: '{name}' is not float32")
        for axis in axes.get(name, {}):
            if not tensor.shape.dim[axis].dim_param:
                raise RuntimeError(f"{path.name}: '{name}' axis {axis} is not dynamic")


# ----------------------------------------------------------------------------------------------- manifest

def manifest(name: str, cfg, seed: int, planner: dict, action_std, search) -> dict:
    states = has_states(cfg)
    return {
        "format": 1,
        "name": name,
        "family": family(cfg),
        "image": {"width": cfg.image_size, "height": cfg.image_size, "scale": 255.0,
                  "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
        "encoder": {"file": "encoder.onnx", "input": "pixels", "output": "latent"},
        "predictor": {"file": "predictor.onnx", "latents": "latents", "actions": "actions",
                      "states": "states" if states else None, "output": "next_latents", "history": cfg.history,
                      **({} if states else {"shared_context": shared_context.manifest_entry()})},
        "latent": {"shape": cfg.latent_shape},
        "action": {"dim": cfg.action_dim, "block": cfg.action_block,
                   "mean": [0.0] * cfg.action_dim, "std": list(action_std), "search": list(search)},
        "state": {"dim": cfg.state_dim, "integrate": "ee-pose-euler-xyz"} if states else None,
        "planner": planner,
        "flops": flops(cfg),
        "generator": {"script": "models/robotctl_models/make_models.py", "seed": seed, "torch": torch.__version__,
                      "arch": cfg.as_dict()},
    }


def write_json(path: Path, value) -> None:
    """Indented JSON with lists of scalars kept on one line."""
    path.write_text(_json(value, 0) + "\n")


def _json(value, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + _json(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


# ----------------------------------------------------------------------------------------------- references

def formula_input(shape, offset: float) -> np.ndarray:
    """x[i] = float32(sin(i * 0.0137 + offset)) over the flat row-major index i, computed in float64."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n, dtype=np.float64) * 0.0137 + offset).astype(np.float32).reshape(shape)


def reference_cases(cfg, big_batch: bool) -> list[dict]:
    """Encoder at B=1 and B=300; predictor at B=1 for every T, and B=300 at the full history."""
    image = [3, cfg.image_size, cfg.image_size]
    block = cfg.action_block * cfg.action_dim
    cases = [("encoder_b1", "encoder", {"pixels": ([1] + image, 0.1)})]
    if big_batch:
        cases.append(("encoder_b300", "encoder", {"pixels": ([300] + image, 0.15)}))
    runs = [(1, t) for t in range(1, cfg.history + 1)] + ([(300, cfg.history)] if big_batch else [(2, cfg.history)])
    for b, t in runs:
        inputs = {"latents": ([b, t] + cfg.latent_shape, 0.2), "actions": ([b, t, block], 0.3)}
        if has_states(cfg):
            inputs["states"] = ([b, t, cfg.state_dim], 0.4)
        cases.append((f"predictor_b{b}_T{t}", "predictor", inputs))
    return [{"name": n, "graph": g, "inputs": {k: {"shape": s, "offset": o} for k, (s, o) in i.items()}}
            for n, g, i in cases]


def write_references(directory: Path, encoder, predictor, cfg, big_batch: bool = True) -> None:
    """reference/reference.json + one raw little-endian float32 file per case output (see models/README.md)."""
    out = directory / "reference"
    out.mkdir(parents=True, exist_ok=True)
    cases = reference_cases(cfg, big_batch)
    with torch.no_grad():
        for case in cases:
            args = [torch.from_numpy(formula_input(spec["shape"], spec["offset"])) for spec in case["inputs"].values()]
            module, output = (encoder, "latent") if case["graph"] == "encoder" else (predictor, "next_latents")
            result = module(*args).numpy().astype("<f4")
            if not np.isfinite(result).all():
                raise RuntimeError(f"{case['name']}: non-finite reference output")
            file = case["name"] + ".bin"
            (out / file).write_bytes(result.tobytes())
            case["output"] = {"name": output, "shape": list(result.shape), "file": file,
                              "max_abs": float(np.abs(result).max())}
    write_json(out / "reference.json", {
        "formula": FORMULA,
        "formula_numpy": "np.sin(np.arange(n, dtype=np.float64) * 0.0137 + offset).astype(np.float32)",
        "dtype": "float32", "byte_order": "little", "layout": "row-major",
        "producer": f"PyTorch {torch.__version__}, eval mode, float32",
        "cases": cases})


# ----------------------------------------------------------------------------------------------- models

def make_model(directory: Path, name: str, cfg, planner: dict, action_std, search,
               big_references: bool = True, save_weights: bool = False):
    start = time.time()
    seed = SEEDS[name]
    directory.mkdir(parents=True, exist_ok=True)
    encoder, predictor = arch.build(cfg, seed)
    log(f"[{name}] {family(cfg)}: encoder {arch.parameter_count(encoder):,} params, "
        f"predictor {arch.parameter_count(predictor):,} params, total "
        f"{arch.parameter_count(encoder) + arch.parameter_count(predictor):,}")
    write_json(directory / "model.json", manifest(name, cfg, seed, planner, action_std, search))
    export_encoder(encoder, cfg, directory / "encoder.onnx")
    _report_file(directory / "encoder.onnx")
    export_predictor(predictor, cfg, directory / "predictor.onnx")
    _report_file(directory / "predictor.onnx")
    if not has_states(cfg):
        export_shared_context(predictor, cfg, directory)
    if save_weights:
        torch.save({"family": family(cfg), "seed": seed, "config": cfg.as_dict(),
                    "encoder": encoder.state_dict(), "predictor": predictor.state_dict()}, directory / "weights.pt")
        _report_file(directory / "weights.pt")
    write_references(directory, encoder, predictor, cfg, big_references)
    reference_bytes = sum(f.stat().st_size for f in (directory / "reference").iterdir())
    log(f"[{name}] reference/: {reference_bytes / 1e6:.2f} MB")
    log(f"[{name}] robotctl model check ({model_check.check(directory):.1f} s)")
    log(f"[{name}] done in {time.time() - start:.1f} s")
    return encoder, predictor


def _report_file(path: Path) -> None:
    log(f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {path.stat().st_size / 1e6:.2f} MB")


def lewm_planner() -> dict:
    return {"solver": "cem", "cost": "mse", "samples": 300, "topk": 30, "iterations": 30,
            "horizon": 5, "receding": 5, "init_std": 1.0}


def make_examples(root: Path) -> None:
    make_model(root / "lewm-small", "lewm-small", LEWM_SMALL, lewm_planner(), ACTION_STD_PHYSICAL,
               [True, True, True, False, False, True, True])
    make_model(root / "vjepa2ac-small", "vjepa2ac-small", VJEPA_SMALL,
               {"solver": "cem", "cost": "l1", "samples": 256, "topk": 16, "iterations": 10,
                "horizon": 2, "receding": 1, "init_std": 1.0},
               ACTION_STD_PHYSICAL, [True, True, True, False, False, False, True])


def make_full(root: Path) -> None:
    make_model(root / "lewm-full", "lewm-full", LEWM_FULL, lewm_planner(), ACTION_STD_PHYSICAL,
               [True, True, True, False, False, True, True], big_references=False, save_weights=True)


# ----------------------------------------------------------------------------------------------- broken models

BROKEN_README = """# Broken world models (generated)

Generated by `PYTHONPATH=models /usr/bin/python3 -m robotctl_models.make_models --broken` from a tiny LeWM-shaped model (32x32 images, width 16,
depth 1, latent [16], history 3, action dim 7 x block 5). Each folder is a model directory that loading must
refuse, with a message naming the field or file, except `good-tiny`, which must load. Do not edit by hand.

| case | what is wrong |
|---|---|
{rows}
"""

BROKEN_CASES = {
    "good-tiny": "nothing: the valid tiny model (loads, dry run finite)",
    "truncated-onnx": "encoder.onnx is cut to its first half (ONNX parse error)",
    "missing-predictor": "predictor.onnx is absent (file named by predictor.file missing)",
    "unknown-input-name": "model.json names the predictor's action input \"acts\"; the graph's input is \"actions\"",
    "latent-shape-mismatch": "model.json says latent.shape [99]; the graphs produce/take [16]",
    "action-block-mismatch": "model.json says action.block 4 (4 x 7 = 28); the predictor's actions input is 35 wide",
    "zero-std": "action.std[2] is 0 (std must be > 0)",
    "topk-gt-samples": "planner.topk 40 > planner.samples 20",
    "nan-predictor": "a valid predictor graph whose output is multiplied by NaN (dry run not finite)",
    "not-json": "model.json is not JSON",
    "shared-context-differs": "predictor.shared.onnx was exported from another tiny model's weights (it does not compute this predictor)",
    "shared-context-every-position": "predictor.shared.onnx gives every candidate position, as shared-context graphs exported before 2026-12-07 did, not the last one",
}


def make_broken(root: Path) -> None:
    start = time.time()
    if root.exists():
        shutil.rmtree(root)
    good = root / "good-tiny"
    make_model(good, "good-tiny", LEWM_TINY, {"solver": "cem", "cost": "mse", "samples": 20, "topk": 5,
                                              "iterations": 3, "horizon": 2, "receding": 2, "init_std": 1.0},
               ACTION_STD_PHYSICAL, [True] * 7, big_references=False)
    base = json.loads((good / "model.json").read_text())

    def case(name: str, edit=None) -> Path:
        directory = root / name
        directory.mkdir()
        for file in ("encoder.onnx", "predictor.onnx", shared_context.FILE):
            shutil.copy(good / file, directory / file)
        document = copy.deepcopy(base)
        document["name"] = name
        if edit:
            edit(document)
        write_json(directory / "model.json", document)
        return directory

    encoder_bytes = (good / "encoder.onnx").read_bytes()
    (case("truncated-onnx") / "encoder.onnx").write_bytes(encoder_bytes[: len(encoder_bytes) // 2])
    (case("missing-predictor") / "predictor.onnx").unlink()
    case("unknown-input-name", lambda d: d["predictor"].update(actions="acts"))
    case("latent-shape-mismatch", lambda d: d["latent"].update(shape=[99]))
    case("action-block-mismatch", lambda d: d["action"].update(block=4))
    case("zero-std", lambda d: d["action"]["std"].__setitem__(2, 0.0))
    case("topk-gt-samples", lambda d: d["planner"].update(samples=20, topk=40))
    nan_dir = case("nan-predictor")
    onnx.save(_nan_output(onnx.load(str(good / "predictor.onnx"))), str(nan_dir / "predictor.onnx"))
    (case("not-json") / "model.json").write_text("this is not json {\"format\": 1,\n")
    _, other = arch.build(LEWM_TINY, SEEDS["good-tiny"] + 1)
    export_shared_context(other.eval(), LEWM_TINY, case("shared-context-differs"))
    _, same = arch.build(LEWM_TINY, SEEDS["good-tiny"])
    _export(_EveryPosition(same.eval()).eval(), shared_context.trace_args(LEWM_TINY.latent_shape, LEWM_TINY.action_block * LEWM_TINY.action_dim),
            case("shared-context-every-position") / shared_context.FILE, shared_context.INPUTS, [shared_context.OUTPUT],
            shared_context.dynamic_axes(output_time=True))
    rows = "\n".join(f"| `{name}` | {text} |" for name, text in BROKEN_CASES.items())
    (root / "README.md").write_text(BROKEN_README.format(rows=rows))
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    log(f"[broken-models] {len(BROKEN_CASES)} cases in {root.relative_to(REPO)}: {total / 1e6:.2f} MB, "
        f"{time.time() - start:.1f} s")


class _EveryPosition(torch.nn.Module):
    """The shared-context graph's inputs, the predictor on cat(context, candidate) at every candidate position: the
    contract before the graph gave the last position only."""

    def __init__(self, predictor):
        super().__init__()
        self.predictor = predictor

    def forward(self, context_latents, context_actions, latents, actions):
        batch, p = latents.shape[0], context_latents.shape[1]
        window = torch.cat([context_latents.expand(batch, -1, -1), latents], dim=1)
        acts = torch.cat([context_actions.expand(batch, -1, -1), actions], dim=1)
        return self.predictor(window, acts)[:, p:]


def _nan_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """Renames the graph output's producer and appends next_latents = producer * NaN."""
    graph = model.graph
    for node in graph.node:
        node.output[:] = ["next_latents_finite" if o == "next_latents" else o for o in node.output]
    graph.initializer.append(helper.make_tensor("nan_constant", TensorProto.FLOAT, [], [float("nan")]))
    graph.node.append(helper.make_node("Mul", ["next_latents_finite", "nan_constant"], ["next_latents"],
                                       name="poison"))
    onnx.checker.check_model(model, full_check=True)
    return model


# ----------------------------------------------------------------------------------------------- matmul

def make_matmul(root: Path) -> None:
    """Y = MatMul(A, B), A [M, K], B [K, N], all dynamic, no weights: ONNX Runtime's large-product rate."""
    root.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"], name="matmul")], "matmul",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", "K"]),
         helper.make_tensor_value_info("B", TensorProto.FLOAT, ["K", "N"])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", "N"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="robotctl make_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(root / "matmul.onnx"))
    _report_file(root / "matmul.onnx")


# ----------------------------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-examples", type=Path, default=REPO / "models" / "examples")
    parser.add_argument("--examples", action="store_true", help="generate models/examples")
    parser.add_argument("--broken", action="store_true", help="generate tests/fixtures/broken-models")
    parser.add_argument("--matmul", action="store_true", help="generate src/RobotCtl.Inference/Resources/matmul.onnx")
    parser.add_argument("--full", action="store_true", help="generate models/lewm-full (~75 MB, gitignored)")
    args = parser.parse_args()
    if not (args.examples or args.broken or args.matmul or args.full):
        args.examples = args.broken = args.matmul = True
    torch.set_num_threads(2)
    start = time.time()
    log(f"torch {torch.__version__}, onnx {onnx.__version__}, opset {OPSET}")
    try:
        if args.examples or args.broken or args.full:
            model_check.command()   # no robotctl to check the models: say so before making them
        if args.examples:
            make_examples(args.out_examples)
        if args.broken:
            make_broken(REPO / "tests" / "fixtures" / "broken-models")
        if args.matmul:
            make_matmul(REPO / "src" / "RobotCtl.Inference" / "Resources")
        if args.full:
            make_full(REPO / "models")
    except model_check.CheckFailed as e:
        sys.exit(f"make_models: {e}")
    log(f"all done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
