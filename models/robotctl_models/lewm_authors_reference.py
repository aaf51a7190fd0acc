"""Run the LeWM authors' own code (stable-worldmodel + the real Hugging Face
ViTModel) on a case, to get reference costs/latents for robotctl's
`model score`.

Nothing of theirs is copied here: this script loads their source files from
the directories given (see lewm_authors_shims.py for the few import shims).

Modes
  reference (default):
    python3 -m robotctl_models.lewm_authors_reference --authors SWM --transformers HF [--stable-pretraining SPT]
        --checkpoint CKPT --case case.json --out refs.json [--threads 1] [--repeat N]
  make a deterministic case (no authors' code needed, only CKPT/config.json):
    python3 -m robotctl_models.lewm_authors_reference --make-case --checkpoint CKPT --out-dir DIR
        [--samples 8] [--horizon 5] [--context-frames H] [--history-size HS] [--seed 0]
  make a random-weight checkpoint with THEIR classes (stable-worldmodel layout):
    python3 -m robotctl_models.lewm_authors_reference --make-checkpoint tiny|full --out-dir DIR
        --authors SWM --transformers HF [--stable-pretraining SPT] [--keys-out keys.txt]
  time their planner (stable-worldmodel's CEMSolver over ShootingCostEvaluator(LeWM, GoalMSE)) on a case's context and
  goal, as their eval plans (issue 20's peer for `robotctl plan`):
    python3 -m robotctl_models.lewm_authors_reference --plan --authors SWM --transformers HF [--stable-pretraining SPT]
        --checkpoint CKPT --case case.json --out plan.json [--samples 300] [--topk 30] [--iterations 30]
        [--horizon 5] [--seed 0] [--repeat N] [--threads 2]
  check the shims against torch / the other real code path:
    python3 -m robotctl_models.lewm_authors_reference --self-test --authors SWM --transformers HF [--stable-pretraining SPT]

SWM: folder holding stable_worldmodel/ (e.g. `git archive HEAD stable_worldmodel`)
HF:  folder holding src/transformers/ (needs models/vit/{modeling,configuration}_vit.py,
     activations.py, modeling_outputs.py, integrations/sdpa_attention.py)
SPT: folder holding stable_pretraining/ (backbone/utils.py, data/dataset_stats.py)
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "HASWELL")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from . import lewm_authors_shims as shims  # noqa: E402


# ---------------------------------------------------------------- configs
def model_config(size, action_dim=2, frameskip=5):
    """The resolved `cfg.model` of scripts/train/config/lewm.yaml (what
    save_pretrained writes to config.json).  'full' is the PushT setup;
    'tiny' shrinks every width/depth through vit_hf's **kwargs passthrough."""
    if size == "full":
        embed, img, patch = 192, 224, 14
        enc_extra = {}
        pred = dict(depth=6, heads=16, mlp_dim=2048, dim_head=64)
        proj_hidden = 2048
    elif size == "tiny":  # same shape as lewm_checkpoint.py's tiny fixture
        embed, img, patch = 32, 32, 8
        enc_extra = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
        pred = dict(depth=2, heads=2, mlp_dim=64, dim_head=16)
        proj_hidden = 64
    else:
        raise ValueError(size)
    mlp = lambda: {  # noqa: E731
        "_target_": "stable_worldmodel.wm.lewm.module.MLP",
        "input_dim": embed, "output_dim": embed, "hidden_dim": proj_hidden,
        "norm_fn": {"_target_": "torch.nn.BatchNorm1d", "_partial_": True},
    }
    return {
        "_target_": "stable_worldmodel.wm.lewm.LeWM",
        "encoder": dict({"_target_": "stable_pretraining.backbone.utils.vit_hf",
                         "size": "tiny", "patch_size": patch, "image_size": img,
                         "pretrained": False, "use_mask_token": False}, **enc_extra),
        "predictor": dict({"_target_": "stable_worldmodel.wm.lewm.module.Predictor",
                           "num_frames": 3, "input_dim": embed, "hidden_dim": embed,
                           "output_dim": embed, "dropout": 0.1, "emb_dropout": 0.0}, **pred),
        "action_encoder": {"_target_": "stable_worldmodel.wm.lewm.module.Embedder",
                           "input_dim": frameskip * action_dim, "emb_dim": embed},
        "projector": mlp(),
        "pred_proj": mlp(),
    }


def _cfg_image_size(cfg):
    return int(cfg["encoder"].get("image_size", 224))


def _cfg_action_dim(cfg):
    return int(cfg["action_encoder"]["input_dim"])


def _cfg_history(cfg):
    return int(cfg["predictor"].get("num_frames", 3))


# ------------------------------------------------------------- checkpoint
def resolve_checkpoint(path):
    """stable_worldmodel.wm.utils._resolve for local paths: a .pt file with
    config.json beside it, or a folder with exactly one .pt + config.json."""
    if path.endswith(".pt"):
        folder, pt = os.path.dirname(path) or ".", path
    else:
        pts = sorted(f for f in os.listdir(path) if f.endswith(".pt"))
        if len(pts) != 1:
            raise ValueError(f"{path}: expected exactly one .pt file, found {pts}")
        folder, pt = path, os.path.join(path, pts[0])
    with open(os.path.join(folder, "config.json")) as f:
        return pt, json.load(f)


def load_pretrained(path):
    """What their load_pretrained + eval_wm.py do: instantiate(config),
    load_state_dict (strict), eval, requires_grad_(False),
    interpolate_pos_encoding=True."""
    pt, cfg = resolve_checkpoint(path)
    state = torch.load(pt, map_location="cpu")
    model = shims.instantiate(cfg)
    model.load_state_dict(state, strict=True)
    model = model.eval()
    model.requires_grad_(False)
    model.interpolate_pos_encoding = True
    return model, cfg


def randomize_(model, seed):
    """Deterministic non-trivial weights: their constructors zero the adaLN
    modulation (so every predictor block would be the identity) and leave
    LayerNorm/BatchNorm at 1/0; a parity check needs every path live."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            n = torch.randn(p.shape, generator=g)
            if name.endswith("bias"):
                p.copy_(0.05 * n)
            elif p.ndim == 1:  # LayerNorm / BatchNorm affine weight
                p.copy_(1.0 + 0.1 * n)
            elif p.ndim == 3:  # cls_token, position embeddings, predictor pos_embedding
                p.copy_(0.1 * n)
            else:
                fan_in = p[0].numel()
                gain = 1.0
                p.copy_(gain * n / fan_in ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
            elif name.endswith("num_batches_tracked"):
                b.fill_(1000)


def make_checkpoint(args):
    shims.install(args.authors, args.transformers, args.stable_pretraining, args.vit_attn)
    cfg = model_config(args.make_checkpoint, action_dim=args.action_dim or (2 if args.make_checkpoint == "full" else 7))
    torch.manual_seed(args.seed)
    model = shims.instantiate(json.loads(json.dumps(cfg)))
    randomize_(model, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out_dir, "weights.pt"))
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    sd = model.state_dict()
    lines = [f"{k}\t{list(v.shape)}\t{str(v.dtype).replace('torch.', '')}" for k, v in sd.items()]
    if args.keys_out:
        with open(args.keys_out, "w") as f:
            f.write("\n".join(lines) + "\n")
    n = sum(v.numel() for v in sd.values())
    print(f"wrote {args.out_dir}: {len(sd)} tensors, {n} values; shims: {[s['shim'] for s in shims.SHIMS]}")


# ------------------------------------------------------------------- case
def _png(path, arr):
    Image.fromarray(arr, mode="RGB").save(path)


def make_case(args):
    _, cfg = resolve_checkpoint(args.checkpoint)
    size = args.image_size or _cfg_image_size(cfg)
    A = args.action_dim or _cfg_action_dim(cfg)
    H = args.context_frames or _cfg_history(cfg)
    # rollout's history_size: the window the predictor sees.  Their planner never passes it, so it is the
    # predictor's num_frames, whatever the number of context frames (fewer early in an episode).
    hs = args.history_size or _cfg_history(cfg)
    S, T = args.samples or 8, args.horizon
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size

    def scene(k):
        # smooth colour field + a moving disc + seeded noise; uint8 RGB
        cx, cy = 0.3 + 0.1 * k, 0.5 + 0.05 * k
        disc = ((x - cx) ** 2 + (y - cy) ** 2) < 0.02
        img = np.stack([0.5 + 0.4 * np.sin(6 * x + k), 0.5 + 0.4 * np.cos(5 * y - k), 0.5 + 0.3 * np.sin(4 * (x + y))], -1)
        img[disc] = [0.9, 0.2, 0.1]
        img = img * 255 + rng.normal(0, 12, img.shape)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    context = []
    for k in range(H):
        name = f"ctx_{k}.png"
        _png(os.path.join(args.out_dir, name), scene(k))
        context.append(name)
    _png(os.path.join(args.out_dir, "goal.png"), scene(H + 3))
    history = rng.standard_normal((H - 1, A)).astype(np.float32)
    cands = rng.standard_normal((S, T, A)).astype(np.float32)
    history_l = [[float(v) for v in row] for row in history]
    cands_l = [[[float(v) for v in step] for step in c] for c in cands]
    with open(os.path.join(args.out_dir, "context-actions.json"), "w") as f:
        json.dump(history_l, f)
    with open(os.path.join(args.out_dir, "candidates.json"), "w") as f:
        json.dump(cands_l, f)
    case = {"context": context, "goal": "goal.png", "action_history": history_l,
            "candidates": cands_l, "history_size": hs, "image_size": size,
            "seed": args.seed, "samples": S, "horizon": T, "action_dim": A,
            "note": "paths are relative to this file; actions are in the predictor's (normalised) units, blocks of frameskip*action_dim"}
    with open(os.path.join(args.out_dir, "case.json"), "w") as f:
        json.dump(case, f)
    print(f"wrote case {args.out_dir}: H={H} history_size={hs} S={S} T={T} A={A} image {size}x{size}")


# -------------------------------------------------------------- reference
def planning_transform(png_path, imagenet):
    """eval_wm.img_transform on a uint8 RGB image: ToImage (HWC->CHW),
    ToDtype(float32, scale=True) == .to(float32).mul_(1.0/255) in torchvision
    v2, Normalize(ImageNet) == sub(mean).div_(std); Resize(img_size) is the
    identity when the image is already img_size x img_size (checked)."""
    arr = np.asarray(Image.open(png_path).convert("RGB"))
    t = torch.from_numpy(arr.copy()).permute(2, 0, 1)
    t = t.to(torch.float32).mul_(1.0 / 255)
    mean = torch.as_tensor(imagenet["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.as_tensor(imagenet["std"], dtype=torch.float32).view(-1, 1, 1)
    return t.sub(mean).div_(std)


def run_reference(args):
    torch.set_num_threads(args.threads)
    mods = shims.install(args.authors, args.transformers, args.stable_pretraining, args.vit_attn)
    t0 = time.perf_counter()
    model, cfg = load_pretrained(args.checkpoint)
    t_load = time.perf_counter() - t0
    case_dir = os.path.dirname(os.path.abspath(args.case))
    with open(args.case) as f:
        case = json.load(f)
    imagenet = mods["dataset_stats"].ImageNet
    size = _cfg_image_size(cfg)
    ctx = torch.stack([planning_transform(os.path.join(case_dir, p), imagenet) for p in case["context"]])
    goal = planning_transform(os.path.join(case_dir, case["goal"]), imagenet)[None]
    for img in (ctx, goal):
        if tuple(img.shape[-2:]) != (size, size):
            raise ValueError(f"case images are {tuple(img.shape[-2:])}, checkpoint image_size is {size}: "
                             "resize them first (the authors resize after Normalize)")
    H = ctx.shape[0]
    hs = int(case.get("history_size") or _cfg_history(cfg))
    cands = torch.tensor(case["candidates"], dtype=torch.float32)[None]  # (1,S,T,A)
    S, T, A = cands.shape[1:]
    hist = torch.tensor(case["action_history"], dtype=torch.float32).reshape(H - 1, A)

    GoalMSE = mods["objective"].GoalMSE
    flat_goal_encode = mods["evaluator"].flat_goal_encode

    def one_run():
        # CEMSolver.solve expands every info tensor over the sample axis
        info = {
            "pixels": ctx[None, None].expand(1, S, *ctx.shape),
            "goal": goal[None, None].expand(1, S, *goal.shape),
            # the env's last raw action; flat_goal_encode pops it, rollout overwrites it
            "action": torch.zeros(1, S, 1, A),
            "action_history": hist[None, None].expand(1, S, H - 1, A),
        }
        with torch.inference_mode():  # CEMSolver.solve runs under inference_mode
            ta = time.perf_counter()
            info["goal_emb"] = flat_goal_encode(model, info)  # ShootingCostEvaluator._rollout
            tb = time.perf_counter()
            info = model.rollout(info, cands, history_size=hs)
            tc = time.perf_counter()
            costs = GoalMSE(reduction="sum")(info)
            td = time.perf_counter()
            if args.repeat > 1:  # predictor only: rollout reuses the cached context 'emb'
                t_ = time.perf_counter()
                model.rollout(dict(info), cands, history_size=hs)
                pred_only = time.perf_counter() - t_
        tm = {"goal_encode_s": tb - ta, "rollout_s": tc - tb, "cost_s": td - tc, "total_s": td - ta}
        if args.repeat > 1:
            tm["rollout_cached_context_s"] = pred_only
        return info, costs, tm

    timings = []
    for _ in range(max(1, args.repeat)):
        info, costs, tm = one_run()
        timings.append(tm)
    pred = info["predicted_emb"]  # (1,S,H+T,D)
    costs = costs[0]
    best = int(torch.argmin(costs))
    refs = {
        "costs": costs.tolist(),
        "final_latents": pred[0, :, -1].tolist(),
        "goal_latent": info["goal_emb"][0, -1].tolist(),
        "context_latents": pred[0, 0, :H].tolist(),
        "rollout_latents_sample0": pred[0, 0].tolist(),
        "best": best,
        "samples": S, "horizon": T, "history": H, "history_size": hs, "action_dim": A,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "vit_attn_implementation": args.vit_attn,
        "shims": shims.SHIMS,
    }
    if not args.no_timing:  # (left out of committed fixtures, so that they regenerate byte-identically)
        refs["timing"] = {"load_s": t_load, "runs": timings,
                          "best_total_s": min(t["total_s"] for t in timings),
                          "best_rollout_s": min(t["rollout_s"] for t in timings)}
        refs["sources"] = {"authors": os.path.abspath(args.authors),
                           "transformers": os.path.abspath(args.transformers),
                           "stable_pretraining": os.path.abspath(args.stable_pretraining) if args.stable_pretraining else None}
    with open(args.out, "w") as f:
        json.dump(refs, f)
    c = costs.numpy()
    print(f"refs -> {args.out}: S={S} T={T} H={H} best={best} cost[min,max]=[{c.min():.6g},{c.max():.6g}] "
          f"total {min(t['total_s'] for t in timings):.3f}s (rollout {min(t['rollout_s'] for t in timings):.3f}s) "
          f"on {torch.get_num_threads()} thread(s)")


# -------------------------------------------------------------- their planner
def run_plan(args):
    """Their CEMSolver.solve, timed whole: each solve encodes the context and the goal once (their rollout caches
    both in the info dict it is given) and runs iterations x horizon predictor calls on `samples` candidates."""
    torch.set_num_threads(args.threads)
    mods = shims.install(args.authors, args.transformers, args.stable_pretraining, args.vit_attn)
    cem = shims.install_cem_solver(args.authors)
    model, cfg = load_pretrained(args.checkpoint)
    case_dir = os.path.dirname(os.path.abspath(args.case))
    with open(args.case) as f:
        case = json.load(f)
    imagenet = mods["dataset_stats"].ImageNet
    ctx = torch.stack([planning_transform(os.path.join(case_dir, p), imagenet) for p in case["context"]])
    goal = planning_transform(os.path.join(case_dir, case["goal"]), imagenet)
    H = ctx.shape[0]
    A = _cfg_action_dim(cfg)   # the predictor's action block (frameskip x the checkpoint's action dims)
    hist = torch.tensor(case["action_history"], dtype=torch.float32).reshape(H - 1, A)
    info = {"pixels": ctx[None], "goal": goal[None, None], "action": torch.zeros(1, 1, A), "action_history": hist[None]}
    Box = sys.modules["gymnasium.spaces"].Box

    def solve(iterations, seed):
        evaluator = mods["evaluator"].ShootingCostEvaluator(model, mods["objective"].GoalMSE(reduction="sum"))
        solver = cem.CEMSolver(evaluator, num_samples=args.samples, var_scale=1.0, n_steps=iterations,
                               topk=args.topk, device="cpu", seed=seed)
        solver.configure(action_space=Box(-np.inf, np.inf, shape=(1, A), dtype=np.float32), n_envs=1,
                         config=argparse.Namespace(horizon=args.horizon, action_block=1))
        start, cpu = time.perf_counter(), time.process_time()
        out = solver.solve({k: v.clone() for k, v in info.items()})
        return out, (time.perf_counter() - start) * 1e3, (time.process_time() - cpu) * 1e3

    solve(1, args.seed)                                   # warm-up: one iteration (allocator, kernels, first encodes)
    runs, cpus, out = [], [], None
    for _ in range(max(1, args.repeat)):
        out, ms, cpu_ms = solve(args.iterations, args.seed)
        runs.append(round(ms, 1))
        cpus.append(round(cpu_ms, 1))
    result = {"planner": "stable_worldmodel.planning.solver.cem.CEMSolver + ShootingCostEvaluator(LeWM, GoalMSE)",
              "samples": args.samples, "topk": args.topk, "iterations": args.iterations, "horizon": args.horizon,
              "context_frames": H, "action_block": A, "seed": args.seed, "threads": torch.get_num_threads(),
              "torch": torch.__version__, "plan_runs_ms": runs, "plan_cpu_ms": cpus,
              "median_ms": float(np.median(runs)), "final_elite_cost": out["costs"][0],
              "actions": out["actions"][0].tolist(), "shims": shims.SHIMS}
    with open(args.out, "w") as f:
        json.dump(result, f)
    print(f"their CEM ({args.samples} x {args.iterations} x horizon {args.horizon}, top {args.topk}, {H} context "
          f"frames, {torch.get_num_threads()} threads): median {result['median_ms'] / 1e3:.1f} s per plan, runs {runs} ms")


# -------------------------------------------------------------- self-test
def self_test(args):
    torch.set_num_threads(args.threads)
    import torch.nn.functional as F
    mods = shims.install(args.authors, args.transformers, args.stable_pretraining, "sdpa")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 5, generator=g)
    r = shims.rearrange
    assert torch.equal(r(x, "b t ... -> (b t) ..."), x.reshape(6, 4, 5))
    assert torch.equal(r(x.reshape(6, 20), "(b t) d -> b t d", b=2), x.reshape(2, 3, 20))
    y = torch.randn(2, 3, 12, generator=g)
    assert torch.equal(r(y, "b t (h d) -> b h t d", h=4), y.reshape(2, 3, 4, 3).permute(0, 2, 1, 3))
    z = y.reshape(2, 3, 4, 3).permute(0, 2, 1, 3)
    assert torch.equal(r(z, "b h t d -> b t (h d)"), y)
    # sdpa shim vs an explicit loop (causal and not)
    q, k, v = (torch.randn(2, 4, 3, 8, generator=g, dtype=torch.float64) for _ in range(3))
    for causal in (True, False):
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        ref = torch.empty_like(out)
        for i in range(3):
            n = i + 1 if causal else 3
            w = torch.softmax((q[..., i:i + 1, :] @ k[..., :n, :].transpose(-1, -2)) / 8 ** 0.5, -1)
            ref[..., i:i + 1, :] = w @ v[..., :n, :]
        err = (out - ref).abs().max().item()
        assert err < 1e-12, (causal, err)
    print("einops/sdpa shims: ok")
    # real ViT: sdpa path (shimmed F.sdpa) vs the eager path (pure HF code)
    vit_hf = sys.modules["stable_pretraining.backbone.utils"].vit_hf
    torch.manual_seed(0)
    vit = vit_hf(size="tiny", patch_size=14, image_size=56, pretrained=False, use_mask_token=False,
                 num_hidden_layers=2).eval()
    px = torch.randn(2, 3, 56, 56, generator=g)
    with torch.no_grad():
        a = vit(px, interpolate_pos_encoding=True).last_hidden_state
        vit.config._attn_implementation = "eager"
        b = vit(px, interpolate_pos_encoding=True).last_hidden_state
    print(f"ViT sdpa vs eager: max|diff| {(a - b).abs().max().item():.3g} (rms {a.pow(2).mean().sqrt().item():.3g})")
    assert (a - b).abs().max().item() < 1e-4
    print("shims used:")
    for s in shims.SHIMS:
        print(f"  - {s['shim']}: {s['why']}")
    del mods


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--authors", help="folder holding stable_worldmodel/")
    p.add_argument("--transformers", help="folder holding src/transformers/")
    p.add_argument("--stable-pretraining", dest="stable_pretraining", help="folder holding stable_pretraining/")
    p.add_argument("--checkpoint")
    p.add_argument("--case")
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1, help="run the case N times; timings of each go in refs.json")
    p.add_argument("--no-timing", action="store_true", help="leave timings and source paths out of refs.json")
    p.add_argument("--vit-attn", default="sdpa", choices=["sdpa", "eager"],
                   help="ViT attention path (transformers picks sdpa when torch has it)")
    p.add_argument("--make-case", action="store_true")
    p.add_argument("--out-dir")
    p.add_argument("--samples", type=int, default=None, help="candidates: --make-case 8, --plan 300 (LeWM's)")
    p.add_argument("--horizon", type=int, default=5)
    p.add_argument("--context-frames", type=int, default=0, help="context frames H (default: predictor num_frames)")
    p.add_argument("--history-size", type=int, default=0,
                   help="rollout's history_size (default: predictor num_frames, as their planner uses)")
    p.add_argument("--image-size", type=int, default=0)
    p.add_argument("--action-dim", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--make-checkpoint", choices=["tiny", "full"])
    p.add_argument("--keys-out")
    p.add_argument("--self-test", action="store_true")
    p.add_argument("--plan", action="store_true", help="time their CEM planner on the case (see the docstring)")
    p.add_argument("--topk", type=int, default=30)
    p.add_argument("--iterations", type=int, default=30)
    a = p.parse_args()
    if a.make_case:
        if not (a.checkpoint and a.out_dir):
            p.error("--make-case needs --checkpoint and --out-dir")
        return make_case(a)
    if not (a.authors and a.transformers):
        p.error("--authors and --transformers are required")
    if a.self_test:
        return self_test(a)
    if a.make_checkpoint:
        if not a.out_dir:
            p.error("--make-checkpoint needs --out-dir")
        return make_checkpoint(a)
    if not (a.checkpoint and a.case and a.out):
        p.error("--checkpoint, --case and --out are required")
    if a.plan:
        a.samples = a.samples or 300
        return run_plan(a)
    return run_reference(a)


if __name__ == "__main__":
    main()
