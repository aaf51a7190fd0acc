"""Run the V-JEPA 2-AC authors' own code (facebookresearch/vjepa2) on a case, for reference costs and latents that
robotctl's `model score` is compared with.

Nothing of theirs is copied here: their source files are loaded from the folder given (a checkout, or the subset
`git archive <commit> src/models src/utils src/masks src/hub src/datasets/utils/video app/vjepa_droid/transforms.py
notebooks/utils`); vjepa2ac_authors_shims.py lists the import shims.

Modes
  reference (default):
    python3 -m robotctl_models.vjepa2ac_authors_reference --vjepa2 SRC --checkpoint CKPT.pt [--arch ARCH.json] --case case.json --out refs.json
  make a deterministic case (no authors' code needed; sizes from --arch, default the published ViT-g AC):
    python3 -m robotctl_models.vjepa2ac_authors_reference --make-case --out-dir DIR [--arch ARCH.json] [--samples 8] [--horizon 3]
        [--context-frames 1] [--gimbal] [--seed 0]
  compare the state-dict layout of their modules with ours (models/robotctl_models/vjepa2ac_modules.py) for an arch:
    python3 -m robotctl_models.vjepa2ac_authors_reference --check-keys --vjepa2 SRC [--arch ARCH.json]
  make a random-weight checkpoint with THEIR classes:
    python3 -m robotctl_models.vjepa2ac_authors_reference --make-checkpoint OUT.pt --vjepa2 SRC [--arch ARCH.json] [--seed 0]

What runs, all theirs: the encoder and predictor built by the constructors the arch names (src/models/
vision_transformer.py, src/models/ac_predictor.py), loaded as src/hub/backbones.py `_make_vjepa2_ac_model` does
(`_clean_backbone_key`, encoder strict=False, predictor strict=True; a missing key is refused here so a silently random
encoder cannot pass), the image transform of their energy-landscape notebook (app/vjepa_droid/transforms.py
make_transforms with no augmentation, crop_size = the image size), notebooks/utils/world_model_wrapper.py
WorldModel.encode and the step_predictor its infer_next_action hands to cem (predictor, the last frame's tokens,
F.layer_norm, mpc_utils.compute_new_pose), and mpc_utils.l1 on the last predicted frame. The rollout loop is cem's
sample_action_traj with the candidates given instead of sampled (their cem zeroes rotations; the case's candidates
carry rotation deltas so the state rollout is exercised): actions accumulate, the predictor sees every frame so far.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "HASWELL")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from . import vjepa2ac_authors_shims as shims  # noqa: E402
from . import vjepa2ac_modules as vm  # noqa: E402

VJEPA2_COMMIT = "c2963a47433ecca0ad4f06ec28bcfa8cb5b5cefb"
VJEPA2_PATHS = ["src/models", "src/utils", "src/masks", "src/hub", "src/datasets/utils/video",
                "app/vjepa_droid/transforms.py", "notebooks/utils"]


def read_arch(path):
    if path is None:
        return json.loads(json.dumps(vm.PUBLISHED))
    with open(path) as f:
        return json.load(f)


# ------------------------------------------------------------------------------------------------ their modules
def build_theirs(arch):
    vit_encoder = shims.load("src.models.vision_transformer")
    vit_ac_predictor = shims.load("src.models.ac_predictor")

    def kwargs(entry):   # JSON lists -> the tuples their defaults use (img_size)
        return {k: tuple(v) if isinstance(v, list) else v for k, v in entry.get("kwargs", {}).items()}

    encoder = vit_encoder.__dict__[arch["encoder"]["name"]](**kwargs(arch["encoder"]))
    predictor = vit_ac_predictor.__dict__[arch["predictor"]["name"]](**kwargs(arch["predictor"]))
    return encoder, predictor


def load_theirs(arch, checkpoint):
    """_make_vjepa2_ac_model's loading, with a missing key refused (their strict=False would leave it random)."""
    backbones = shims.load("src.hub.backbones")
    encoder, predictor = build_theirs(arch)
    state = torch.load(checkpoint, map_location="cpu")
    encoder_state = backbones._clean_backbone_key(dict(state["encoder"]))
    encoder_state = {k: v.float() if v.is_floating_point() else v for k, v in encoder_state.items()}
    result = encoder.load_state_dict(encoder_state, strict=False)
    if result.missing_keys:
        raise SystemExit(f"their encoder: {len(result.missing_keys)} missing keys {result.missing_keys[:5]}")
    predictor_state = backbones._clean_backbone_key(dict(state["predictor"]))
    predictor_state = {k: v.float() if v.is_floating_point() else v for k, v in predictor_state.items()}
    predictor.load_state_dict(predictor_state, strict=True)
    return encoder.eval(), predictor.eval(), result.unexpected_keys


def world_model(encoder, predictor, enc_spec):
    transforms = shims.load("app.vjepa_droid.transforms")
    wrapper = shims.load("notebooks.utils.world_model_wrapper")
    crop = enc_spec.img_h
    transform = transforms.make_transforms(
        random_horizontal_flip=False, random_resize_aspect_ratio=(1.0, 1.0), random_resize_scale=(1.0, 1.0),
        reprob=0.0, auto_augment=False, motion_shift=False, crop_size=crop)
    tokens_per_frame = int((crop // encoder.patch_size) ** 2)
    model = wrapper.WorldModel(encoder=encoder, predictor=predictor, tokens_per_frame=tokens_per_frame,
                               transform=transform, normalize_reps=True, device="cpu")
    return model, wrapper


def step_predictor_of(model, wrapper, rep, pose, goal):
    """The step_predictor closure WorldModel.infer_next_action passes to cem, caught by standing in for cem."""
    caught = {}

    def catch(context_frame, context_pose, goal_frame, world_model, close_gripper=None, **mpc_args):
        caught["world_model"] = world_model
        return torch.zeros(1, mpc_args.get("rollout", 1), 7)

    original = wrapper.cem
    wrapper.cem = catch
    try:
        model.infer_next_action(rep, pose, goal)
    finally:
        wrapper.cem = original
    return caught["world_model"]


def reference(args):
    used = shims.install(args.vjepa2)
    torch.set_num_threads(args.threads)
    arch = read_arch(args.arch)
    enc_spec, _ = vm.resolve(arch)
    with open(args.case) as f:
        case = json.load(f)
    base = os.path.dirname(os.path.abspath(args.case))
    encoder, predictor, unexpected = load_theirs(arch, args.checkpoint)
    model, wrapper = world_model(encoder, predictor, enc_spec)
    mpc_utils = shims.load("notebooks.utils.mpc_utils")

    def image(name):
        return np.asarray(Image.open(os.path.join(base, name)).convert("RGB"))

    start = time.time()
    with torch.no_grad():
        context = torch.cat([model.encode(image(p)) for p in case["context"]], dim=1)    # [1, F*N, D]
        goal = model.encode(image(case["goal"]))                                         # [1, N, D]
        n, d = goal.shape[1], goal.shape[2]
        frames = len(case["context"])
        context = context.view(1, frames, n, d)
        states = torch.tensor(case["context_states"], dtype=torch.float32).view(1, frames, 7)
        step = step_predictor_of(model, wrapper, context[:, -1:], states[:, -1:], goal.view(1, 1, n, d))

        candidates = torch.tensor(case["candidates"], dtype=torch.float32)              # [S, H, 7]
        samples, horizon = candidates.shape[:2]
        frame_traj = context.repeat(samples, 1, 1, 1)
        pose_traj = states.repeat(samples, 1, 1)
        action_traj = (torch.tensor(case["context_actions"], dtype=torch.float32).view(1, frames - 1, 7)
                       .repeat(samples, 1, 1) if frames > 1 else None)
        for h in range(horizon):                                  # cem's sample_action_traj, candidates given
            a = candidates[:, h:h + 1]
            action_traj = torch.cat([action_traj, a], dim=1) if action_traj is not None else a
            next_frame, next_pose = step(frame_traj, action_traj, pose_traj)
            frame_traj = torch.cat([frame_traj, next_frame], dim=1)
            pose_traj = torch.cat([pose_traj, next_pose], dim=1)
        goal_frame = goal.view(1, 1, n, d).repeat(samples, 1, 1, 1)
        costs = mpc_utils.l1(frame_traj[:, -1].flatten(1), goal_frame[:, -1].flatten(1))  # their objective
    seconds = time.time() - start
    out = {
        "costs": costs.tolist(),
        "final_latents": frame_traj[:, -1].flatten(1).tolist(),
        "goal_latent": goal.flatten().tolist(),
        "context_latents": context[0].flatten(1).tolist(),
        "best": int(torch.argmin(costs)),
        "final_states": pose_traj[:, -1].tolist(),
        "rollout_states_sample0": pose_traj[0].tolist(),
        "latent_shape": [n, d],
        "arch": arch,
        "encoder_unexpected_keys": unexpected,
        "torch": torch.__version__,
        "threads": args.threads,
        "vjepa2": {"repository": "facebookresearch/vjepa2", "commit": args.commit, "paths": VJEPA2_PATHS},
        "shims": used,
    }
    if not args.no_timing:
        out["seconds"] = round(seconds, 3)
    with open(args.out, "w") as f:
        json.dump(out, f)
    print(f"wrote {args.out}: {samples} candidates x {horizon} steps from {frames} context frame(s), best {out['best']}, "
          f"costs {[round(c, 6) for c in out['costs']]}")


# ------------------------------------------------------------------------------------------------ the case
def make_case(args):
    enc, pred = vm.resolve(read_arch(args.arch))
    h, w = enc.img_h, enc.img_w
    frames, samples, horizon = args.context_frames, args.samples, args.horizon
    if frames + horizon > pred.max_frames + 1:
        raise SystemExit(f"{frames} context frames + {horizon} steps need {frames + horizon - 1} predictor frames; "
                         f"the predictor takes {pred.max_frames}")
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    y, x = y / h, x / w

    def scene(k):
        cx, cy = 0.3 + 0.1 * k, 0.5 + 0.05 * k
        disc = ((x - cx) ** 2 + (y - cy) ** 2) < 0.02
        img = np.stack([0.5 + 0.4 * np.sin(6 * x + k), 0.5 + 0.4 * np.cos(5 * y - k), 0.5 + 0.3 * np.sin(4 * (x + y))], -1)
        img[disc] = [0.9, 0.2, 0.1]
        img = img * 255 + rng.normal(0, 12, img.shape)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    context = []
    for k in range(frames):
        Image.fromarray(scene(k), mode="RGB").save(os.path.join(args.out_dir, f"ctx_{k}.png"))
        context.append(f"ctx_{k}.png")
    Image.fromarray(scene(frames + 3), mode="RGB").save(os.path.join(args.out_dir, "goal.png"))

    # States [x, y, z, roll, pitch, yaw, gripper]: the current one near roll = pi so rotation deltas wrap it past pi;
    # with --gimbal its pitch is float32(pi/2) (within scipy's 1e-7 of gimbal lock: yaw is set to 0 there).
    states = []
    for k in range(frames):
        s = [0.42 - 0.01 * k, -0.05 + 0.02 * k, 0.31, 2.9 + 0.05 * k, 0.2 - 0.05 * k, -0.4 + 0.1 * k, 0.6]
        states.append(s)
    if args.gimbal:
        states[-1][3:6] = [2.9, float(np.float32(np.pi / 2)), 0.35]
    context_actions = [[0.02, -0.01, 0.015, 0.05, -0.03, 0.02, 0.25] for _ in range(frames - 1)]
    cand = np.empty((samples, horizon, 7))
    cand[..., :3] = rng.uniform(-0.05, 0.05, (samples, horizon, 3))      # their maxnorm 0.05 m
    cand[..., 3:6] = rng.uniform(-0.3, 0.3, (samples, horizon, 3))      # rotation deltas (radians)
    cand[..., 6] = rng.uniform(-0.75, 0.75, (samples, horizon))          # their gripper clip
    cand[0, :, 3] = 0.35                                                 # sample 0: roll 2.9 -> past pi
    cand[1, :, 6] = 0.75                                                 # gripper 0.6 -> clipped at 1
    if args.gimbal:   # keep the current state at gimbal lock for one step: no rotation, or a yaw delta only
        cand[2, 0, 3:6] = 0.0
        cand[3, 0, 3:5] = 0.0
    cand = np.float32(cand).astype(np.float64)                           # exactly representable in float32
    case = {"context": context, "goal": "goal.png", "context_states": states, "context_actions": context_actions,
            "candidates": cand.tolist(), "image_size": [h, w], "seed": args.seed, "samples": samples,
            "horizon": horizon, "gimbal": bool(args.gimbal),
            "note": "paths relative to this file; actions are raw [dx, dy, dz, droll, dpitch, dyaw, gripper] deltas "
                    "(metres, radians), states raw poses [x, y, z, roll, pitch, yaw, gripper], as their MPC uses them"}
    files = {"case.json": case, "candidates.json": case["candidates"], "context-states.json": states,
             "context-actions.json": context_actions}
    for name, value in files.items():
        with open(os.path.join(args.out_dir, name), "w") as f:
            json.dump(value, f)
    print(f"wrote {args.out_dir}: {frames} context frame(s) {h}x{w}, {samples} candidates x {horizon} steps")


# ------------------------------------------------------------------------------------------------ layout checks
def check_keys(args):
    shims.install(args.vjepa2)
    arch = read_arch(args.arch)
    theirs = build_theirs(arch)
    enc, pred = vm.resolve(arch)
    ours = vm.build(enc, pred, device="meta")
    ok = True
    for label, a, b in zip(("encoder", "predictor"), theirs, ours):
        ta = {k: tuple(v.shape) for k, v in a.state_dict().items()}
        tb = {k: tuple(v.shape) for k, v in b.state_dict().items()}
        same = ta == tb
        ok &= same
        print(f"{label}: theirs {len(ta)} keys, ours {len(tb)} keys: {'identical names and shapes' if same else 'DIFFER'}")
        if not same:
            print("  only theirs:", sorted(set(ta) - set(tb))[:10], " only ours:", sorted(set(tb) - set(ta))[:10])
            print("  shapes differ:", [k for k in ta if k in tb and ta[k] != tb[k]][:10])
    sys.exit(0 if ok else 1)


def make_checkpoint(args):
    shims.install(args.vjepa2)
    torch.manual_seed(args.seed)
    encoder, predictor = build_theirs(read_arch(args.arch))
    g = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for module in (encoder, predictor):
            for name, p in module.named_parameters():
                n = torch.randn(p.shape, generator=g)
                p.copy_(0.05 * n if name.endswith("bias") else (1 + 0.1 * n) if p.ndim == 1
                        else n / max(1, p[0].numel()) ** 0.5)
    torch.save({"encoder": encoder.state_dict(), "predictor": predictor.state_dict()}, args.make_checkpoint)
    print(f"wrote {args.make_checkpoint} from their classes ({len(encoder.state_dict())} + "
          f"{len(predictor.state_dict())} tensors); shims: {[s['shim'] for s in shims.SHIMS]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vjepa2", help="folder holding their src/, app/vjepa_droid/, notebooks/utils/")
    p.add_argument("--commit", default=VJEPA2_COMMIT, help="the vjepa2 commit that folder holds (recorded)")
    p.add_argument("--checkpoint")
    p.add_argument("--arch")
    p.add_argument("--case")
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--make-case", action="store_true")
    p.add_argument("--out-dir")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--horizon", type=int, default=3)
    p.add_argument("--context-frames", type=int, default=1)
    p.add_argument("--gimbal", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--check-keys", action="store_true")
    p.add_argument("--make-checkpoint")
    args = p.parse_args()
    if args.make_case:
        make_case(args)
    elif args.check_keys:
        check_keys(args)
    elif args.make_checkpoint:
        make_checkpoint(args)
    else:
        for need in ("vjepa2", "checkpoint", "case", "out"):
            if getattr(args, need) is None:
                p.error(f"--{need} is required")
        reference(args)


if __name__ == "__main__":
    main()
