"""Trains the workcell world model (workcell_model.py) from pixels with the LeWM recipe.

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.training.train --data data.h5 --out runs/workcell [--steps 3000] [--batch 96]

Data: an HDF5 file in the stable-worldmodel layout written by `robotctl episodes export --format hdf5 --size 64x64`
(pixels uint8 [N, H, W, 3], action float32 [N, 7] = the command sent after each frame, ep_len, ep_offset,
optional sim_state [N, 6] = effector x y z, block x y yaw: the diagnostics, and the state term below).

Loss (LeWM: end to end, no EMA, no stop-gradient, no pretrained weights): next-embedding MSE, teacher-forced over a
window of `history` frames, plus the same MSE over an open-loop rollout (predictions fed back, the window sliding
as in the runtime's planner), plus lambda x SIGReg on the encoder's embeddings, plus (--state-loss W > 0) W x the
MSE of the latent's first four dimensions against the sim's effector and block x, y (0.15 m per unit for the effector,
--state-block-scale for the block): the block's position, which the planner's latent distance must see for a push,
is otherwise encoded weakly (a linear probe read it to ~11 cm). Only training reads the true state; the encoder and
the planner see pixels alone. Sequences are `rollout + 1` frames
`frameskip` control steps apart; the actions between two frames are one block of `frameskip` 7-D commands,
normalised by ACTION_STD. Seeded: the same data, seed and thread count give the same weights.

Writes to --out: weights.pt (config, state dicts, normalisation), loss.jsonl (one line per logged step),
report.json (held-out open-loop errors, linear probes, latent-vs-true distance curve, timings).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import workcell_model as wm

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# Per-step physical action scale: metres for dx dy dz (the rig's 2 cm step limit), radians, gripper fraction.
ACTION_STD = [0.02, 0.02, 0.02, 0.05, 0.05, 0.05, 0.2]
# The state term: latent dims 0..3 = (effector x, effector y, block x, block y) / scale. 0.15 m makes them about
# unit-spread over the table (+-0.28 m), as SIGReg makes every other dimension; a smaller block scale
# (--state-block-scale) spreads the block's dims wider, so the planner's latent distance weighs the block more
# (halving the scale quadruples its share of the squared distance).
STATE_COLUMNS = [0, 1, 3, 4]     # of sim_state: ee x y z, block x y yaw
STATE_NAMES = ["effector_x", "effector_y", "block_x", "block_y"]
STATE_SCALE = 0.15


class DataError(Exception):
    pass


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------------- data

class Episodes:
    """Everything in memory: pixels as uint8 (64x64x3 = 12 KB a frame), actions normalised."""

    def __init__(self, paths: Path | list[Path], frameskip: int, frames: int):
        """One or more exported files, their episodes concatenated in the order given (e.g. exploration data and
        on-policy data collected later by the planner)."""
        try:
            import h5py
        except ImportError:
            raise DataError("h5py is missing (Debian: apt-get install python3-h5py)")
        paths = [paths] if isinstance(paths, Path) else list(paths)
        pixels, action, ep_len, ep_offset, sim_state = [], [], [], [], []
        rows = 0
        for path in paths:
            if not path.is_file():
                raise DataError(f"{path}: no such file (make it with `robotctl episodes export --format hdf5`)")
            with h5py.File(path, "r") as h5:
                for key in ("pixels", "action", "ep_len", "ep_offset"):
                    if key not in h5:
                        raise DataError(f"{path}: dataset '{key}' missing (expected the stable-worldmodel layout)")
                t0 = time.time()
                pixels.append(h5["pixels"][()])                        # [N, H, W, 3] uint8
                action.append(h5["action"][()].astype(np.float32))
                ep_len.append(h5["ep_len"][()].astype(np.int64))
                ep_offset.append(h5["ep_offset"][()].astype(np.int64) + rows)
                sim_state.append(h5["sim_state"][()].astype(np.float32) if "sim_state" in h5 else None)
                log(f"[train] loaded {path}: {len(pixels[-1]):,} frames of {tuple(pixels[-1].shape[1:])} in "
                    f"{len(ep_len[-1])} episodes ({time.time() - t0:.1f} s)")
            if pixels[-1].shape[1:] != pixels[0].shape[1:]:
                raise DataError(f"{path}: pixels {tuple(pixels[-1].shape[1:])}, but {paths[0]} has {tuple(pixels[0].shape[1:])}: "
                                "export every file with the same --size")
            rows += len(pixels[-1])
        self.pixels = torch.from_numpy(pixels[0] if len(pixels) == 1 else np.concatenate(pixels))
        self.action = torch.from_numpy(np.concatenate(action))
        self.ep_len = np.concatenate(ep_len)
        self.ep_offset = np.concatenate(ep_offset)
        # Truth only where every file has it (the state term and the diagnostics need it for every row).
        self.sim_state = None if any(s is None for s in sim_state) else np.concatenate(sim_state)
        if self.pixels.ndim != 4 or self.pixels.shape[3] != 3 or self.pixels.shape[1] != self.pixels.shape[2]:
            raise DataError(f"{path}: pixels shape {tuple(self.pixels.shape)}, expected [N, S, S, 3]")
        if self.action.shape != (len(self.pixels), 7):
            raise DataError(f"{path}: action shape {tuple(self.action.shape)}, expected [{len(self.pixels)}, 7]")
        self.action_n = self.action / torch.tensor(ACTION_STD)
        self.image_size = int(self.pixels.shape[1])
        self.frameskip, self.frames = frameskip, frames
        span = frameskip * (frames - 1)
        # (episode, first row) of every sequence that fits inside its episode.
        self.starts = []
        for e, (o, n) in enumerate(zip(self.ep_offset, self.ep_len)):
            for t in range(0, int(n) - span):
                self.starts.append((e, int(o) + t))
        if not self.starts:
            raise DataError(f"{path}: no episode has the {span + 1} frames a training sequence spans")
        self.starts = np.array(self.starts, np.int64)
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def split(self, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Sequence starts of training and held-out episodes (whole episodes held out)."""
        rng = np.random.default_rng(seed)
        episodes = rng.permutation(len(self.ep_len))
        held = set(episodes[:max(1, int(round(holdout * len(episodes))))].tolist()) if holdout > 0 else set()
        mask = np.array([e in held for e in self.starts[:, 0]])
        return self.starts[~mask], self.starts[mask]

    def normalise(self, pixels_u8: torch.Tensor) -> torch.Tensor:
        """[..., H, W, 3] uint8 -> [..., 3, H, W] float, exactly the runtime's x = (p / 255 - mean) / std."""
        x = pixels_u8.permute(0, 3, 1, 2).float() / 255.0
        return (x - self.mean) / self.std

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """rows: first rows [B] -> pixels [B, F, 3, H, W], action blocks [B, F-1, frameskip*7]."""
        k = self.frameskip
        frame_rows = rows[:, None] + k * np.arange(self.frames)[None, :]              # [B, F]
        pixels = self.normalise(self.pixels[torch.from_numpy(frame_rows.reshape(-1))])
        pixels = pixels.view(len(rows), self.frames, 3, self.image_size, self.image_size)
        action_rows = frame_rows[:, :-1, None] + np.arange(k)[None, None, :]          # [B, F-1, k]
        actions = self.action_n[torch.from_numpy(action_rows.reshape(-1))].view(len(rows), self.frames - 1, k * 7)
        return pixels, actions

    def states(self, rows: np.ndarray, scales: np.ndarray) -> torch.Tensor:
        """rows: first rows [B] -> the state term's targets [B, F, 4] (STATE_COLUMNS / scales, metres)."""
        frame_rows = rows[:, None] + self.frameskip * np.arange(self.frames)[None, :]
        return torch.from_numpy(self.sim_state[frame_rows][..., STATE_COLUMNS] / scales)


# ------------------------------------------------------------------------------------------------------- loss

def sigreg(z: torch.Tensor, directions: int, generator: torch.Generator, knots: int = 17, t_max: float = 3.0) -> torch.Tensor:
    """SIGReg (LeJEPA/LeWM): Epps-Pulley statistic of random 1-D projections of z [N, D] against N(0, 1),
    averaged over `directions` unit directions; trapezoid quadrature on [0, t_max] (the integrand is even)."""
    n, d = z.shape
    u = torch.randn(d, directions, generator=generator)
    u = u / u.norm(dim=0, keepdim=True)
    p = z @ u                                                          # [N, M]
    t = torch.linspace(0.0, t_max, knots)
    phi = torch.exp(-0.5 * t * t)                                      # N(0,1)'s characteristic function
    xt = p.unsqueeze(-1) * t                                           # [N, M, K]
    real = torch.cos(xt).mean(0)
    imag = torch.sin(xt).mean(0)
    err = (real - phi) ** 2 + imag ** 2                                # [M, K]
    weighted = err * phi
    dt = t_max / (knots - 1)
    integral = 2.0 * dt * (weighted.sum(-1) - 0.5 * (weighted[:, 0] + weighted[:, -1]))
    return (integral * n).mean()


def rollout(predictor, z0: torch.Tensor, actions: torch.Tensor, history: int) -> torch.Tensor:
    """Open-loop rollout as the runtime plans: start from one latent, feed predictions back, keep the last
    `history` frames. z0 [B, D], actions [B, S, A] -> predictions [B, S, D]."""
    context = [z0]
    for s in range(actions.shape[1]):
        lo = max(0, len(context) - history)
        window = torch.stack(context[lo:], dim=1)
        nxt = predictor(window, actions[:, lo:s + 1])[:, -1]
        context.append(nxt)
    return torch.stack(context[1:], dim=1)


def losses(encoder, predictor, pixels, actions, cfg, sig_dirs, generator, sigreg_from: int = 0):
    """sigreg_from: the first latent dimension SIGReg sees (the state term's dims, pinned to metres at their own
    scale, are left out when they are not meant to be N(0, 1))."""
    b, f = pixels.shape[:2]
    z = encoder(pixels.flatten(0, 1)).view(b, f, -1)                  # [B, F, D]
    h = cfg.history
    # Teacher-forced: every window of `history` consecutive frames predicts the next frame at each position.
    tf_terms = []
    for s in range(0, f - 1 - h + 1):
        pred = predictor(z[:, s:s + h], actions[:, s:s + h])
        tf_terms.append(F.mse_loss(pred, z[:, s + 1:s + h + 1]))
    teacher = torch.stack(tf_terms).mean()
    roll = rollout(predictor, z[:, 0], actions, h)
    open_loop = F.mse_loss(roll, z[:, 1:])
    reg = sigreg(z.flatten(0, 1)[:, sigreg_from:], sig_dirs, generator)
    return teacher, open_loop, reg, z


# ------------------------------------------------------------------------------------------------------- diagnostics

@torch.no_grad()
def diagnostics(encoder, predictor, data: Episodes, held: np.ndarray, cfg, seed: int,
                scales: np.ndarray | None = None) -> dict:
    """Held-out open-loop error per rollout step, linear probes of true positions, latent vs true distance, and
    (scales: the state term's metres per unit) the state dims read directly, encoded and predicted, in cm."""
    encoder.eval(); predictor.eval()
    rng = np.random.default_rng(seed + 1)
    rows = held[rng.choice(len(held), size=min(512, len(held)), replace=False), 1]
    errors, latents, state_enc, state_pred = [], [], [], []
    for chunk in np.array_split(rows, max(1, len(rows) // 128)):
        pixels, actions = data.batch(chunk)
        b, f = pixels.shape[:2]
        z = encoder(pixels.flatten(0, 1)).view(b, f, -1)
        roll = rollout(predictor, z[:, 0], actions, cfg.history)
        errors.append(((roll - z[:, 1:]) ** 2).mean(dim=(0, 2)).numpy())
        latents.append(z.flatten(0, 1))
        state_enc.append(z[:, 1:, :len(STATE_COLUMNS)].numpy())
        state_pred.append(roll[..., :len(STATE_COLUMNS)].numpy())
    report = {"heldout_open_loop_mse": [float(x) for x in np.mean(errors, axis=0)],
              "latent_mean_variance": torch.cat(latents).var(dim=0).mean().item()}
    if data.sim_state is None or not np.isfinite(data.sim_state).all():
        report["probe"] = "no sim_state in the data"
        return report
    if scales is not None:
        report["state_dims_cm"] = state_dims_errors(data, rows, np.concatenate(state_enc), np.concatenate(state_pred), scales)
    # Frames of held-out episodes (every 5th), encoded once.
    held_eps = sorted(set(int(e) for e in held[:, 0]))
    frame_rows = np.concatenate([np.arange(data.ep_offset[e], data.ep_offset[e] + data.ep_len[e], 5) for e in held_eps])
    lat = torch.cat([encoder(data.normalise(data.pixels[torch.from_numpy(c)]))
                     for c in np.array_split(frame_rows, max(1, len(frame_rows) // 256))]).numpy()
    truth = data.sim_state[frame_rows]
    targets = {"effector_xy": truth[:, 0:2], "block_xy": truth[:, 3:5]}
    half = len(lat) // 2
    x = np.concatenate([lat, np.ones((len(lat), 1), np.float32)], 1)
    probes = {}
    for name, y in targets.items():
        a, b_ = x[:half], y[:half]
        w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ b_)
        rmse = np.sqrt(((x[half:] @ w - y[half:]) ** 2).sum(1).mean())
        probes[name + "_rmse_cm"] = float(rmse * 100)
    report["linear_probe"] = probes
    # Latent distance against true effector distance: pairs of frames of one held-out episode whose block positions
    # differ by < 1 cm, so the effector alone changed (what a reach plan's cost sees).
    episode_of = np.concatenate([np.full(len(range(data.ep_offset[e], data.ep_offset[e] + data.ep_len[e], 5)), e) for e in held_eps])
    i, j = rng.integers(0, len(lat), 40000), rng.integers(0, len(lat), 40000)
    same = (episode_of[i] == episode_of[j]) & (np.linalg.norm(truth[i, 3:5] - truth[j, 3:5], axis=1) < 0.01) & (i != j)
    i, j = i[same], j[same]
    true_d = np.linalg.norm(truth[i, 0:2] - truth[j, 0:2], axis=1)
    lat_d = ((lat[i] - lat[j]) ** 2).sum(1)
    bins = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 1.0]
    curve = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (true_d >= lo) & (true_d < hi)
        if m.sum() >= 5:
            curve.append({"true_cm": [lo * 100, hi * 100], "pairs": int(m.sum()),
                          "latent_sq_dist_median": float(np.median(lat_d[m])),
                          "latent_sq_dist_p10_p90": [float(np.percentile(lat_d[m], 10)), float(np.percentile(lat_d[m], 90))]})
    report["latent_vs_true_effector_distance"] = curve
    report["latent_true_distance_spearman"] = float(spearman(true_d, lat_d))
    return report


def state_dims_errors(data: Episodes, rows: np.ndarray, encoded: np.ndarray, predicted: np.ndarray,
                      scales: np.ndarray) -> dict:
    """How far the state dims, read as metres, are from the truth: encoded from each frame, and predicted 1..S blocks
    ahead from the first frame alone (mean distance in cm, per rollout step), for sequences whose block stayed put
    (< 0.5 cm) and those where it was pushed (> 1 cm). Held-out data only: docs/EVALUATION.md found models that do
    better here plan worse, so read these beside the loop's own surprise."""
    truth = data.states(rows, np.ones(len(STATE_COLUMNS), np.float32)).numpy()  # [N, F, 4] metres
    enc, pred = encoded * scales, predicted * scales
    moved = np.linalg.norm(truth[:, -1, 2:4] - truth[:, 0, 2:4], axis=1)
    out = {}
    for name, m in (("block_still", moved < 0.005), ("block_pushed", moved > 0.01)):
        if m.sum() < 5:
            continue
        err = lambda x, dims: np.linalg.norm(x[m][..., dims] - truth[m, 1:][..., dims], axis=-1).mean(0) * 100
        out[name] = {"sequences": int(m.sum()),
                     "block_encoded": round(float(err(enc, slice(2, 4)).mean()), 3),
                     "block_predicted": [round(float(x), 3) for x in err(pred, slice(2, 4))],
                     "effector_encoded": round(float(err(enc, slice(0, 2)).mean()), 3),
                     "effector_predicted": [round(float(x), 3) for x in err(pred, slice(0, 2))]}
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


# ------------------------------------------------------------------------------------------------------- main

def state_term(args) -> dict | None:
    """What the latent's first dimensions were trained to equal (model.json's generator records it)."""
    if args.state_loss <= 0:
        return None
    return {"weight": args.state_loss, "dims": STATE_NAMES, "scale_m": state_scales(args).tolist(),
            "sigreg_on_state_dims": args.sigreg_dims == "all"}


def state_scales(args) -> np.ndarray:
    return np.array([STATE_SCALE, STATE_SCALE, args.state_block_scale, args.state_block_scale], np.float32)


def start_from(encoder, predictor, cfg, weights: Path) -> None:
    """Loads a weights.pt into the freshly built modules; its configuration must be the one this run would build."""
    ckpt = torch.load(weights, map_location="cpu")
    found = ckpt["config"]
    expected = cfg.as_dict()
    differ = [f"{k}: expected {expected[k]}, found {found.get(k)}" for k in expected if found.get(k) != expected[k]]
    if differ:
        raise ValueError("its model configuration differs from this run's (" + "; ".join(differ) + ")")
    encoder.load_state_dict(ckpt["encoder"]); predictor.load_state_dict(ckpt["predictor"])


def main() -> int:
    ap = argparse.ArgumentParser(description="Train the workcell world model (see the module docstring).")
    ap.add_argument("--data", type=Path, required=True, nargs="+",
                    help="HDF5 from `robotctl episodes export --format hdf5`; several files train on all their episodes")
    ap.add_argument("--out", type=Path, required=True, help="output folder: weights.pt, loss.jsonl, report.json")
    ap.add_argument("--steps", type=int, default=3000, help="optimiser steps (default 3000)")
    ap.add_argument("--batch", type=int, default=96, help="sequences per step (default 96)")
    ap.add_argument("--rollout", type=int, default=4, help="predicted frames per sequence (default 4)")
    ap.add_argument("--frameskip", type=int, default=5, help="control steps per action block (default 5)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--sigreg", type=float, default=0.1, help="SIGReg weight lambda (default 0.1)")
    ap.add_argument("--sigreg-directions", type=int, default=512)
    ap.add_argument("--state-loss", type=float, default=0.0,
                    help="weight of the state term: latent dims 0..3 = true effector and block x, y (default 0: off; needs sim_state)")
    ap.add_argument("--state-block-scale", type=float, default=STATE_SCALE,
                    help=f"metres per latent unit of the block's dims in the state term (default {STATE_SCALE}, the effector's)")
    ap.add_argument("--sigreg-dims", choices=["all", "free"], default="all",
                    help="latent dims SIGReg regularises: all, or free = those the state term does not pin (default all)")
    ap.add_argument("--latent", type=int, default=wm.WorkcellConfig.latent)
    ap.add_argument("--residual", action="store_true",
                    help="the predictor gives each latent's change (next = latent + head), not the next latent itself")
    ap.add_argument("--holdout", type=float, default=0.05, help="fraction of episodes held out for diagnostics")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--init", type=Path, metavar="WEIGHTS",
                    help="start from WEIGHTS (a weights.pt of the same configuration) instead of a fresh model: a further "
                         "round of training on more data, with the same warm-up and cosine schedule over --steps")
    ap.add_argument("--diagnose", type=Path, metavar="WEIGHTS",
                    help="no training: recompute the diagnostics of WEIGHTS (a weights.pt) on --data into --out/diagnostics.json")
    args = ap.parse_args()
    if args.steps < 1 or args.batch < 2 or args.rollout < 1 or args.frameskip < 1 or not args.state_loss >= 0 \
            or not args.state_block_scale > 0:
        log("train: --steps >= 1, --batch >= 2, --rollout >= 1, --frameskip >= 1, --state-loss >= 0 and --state-block-scale > 0 expected"); return 2

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    try:
        data = Episodes(args.data, args.frameskip, args.rollout + 1)
    except DataError as e:
        log(f"train: {e}"); return 2
    cfg = wm.WorkcellConfig(image_size=data.image_size, latent=args.latent, action_block=args.frameskip,
                            residual=args.residual)
    if args.state_loss > 0:
        if data.sim_state is None or not np.isfinite(data.sim_state).all():
            log(f"train: --state-loss {args.state_loss} needs a finite sim_state in {', '.join(str(p) for p in args.data)} (export collect's episodes)"); return 2
        if args.latent < len(STATE_COLUMNS):
            log(f"train: --state-loss needs --latent >= {len(STATE_COLUMNS)}, found {args.latent}"); return 2
    train_rows, held_rows = data.split(args.holdout, args.seed)
    if len(held_rows) == 0:
        held_rows = train_rows[:64]
    if args.diagnose:
        ckpt = torch.load(args.diagnose, map_location="cpu")
        cfg = wm.WorkcellConfig.from_dict(ckpt["config"])
        encoder, predictor = wm.build(cfg, 0)
        encoder.load_state_dict(ckpt["encoder"]); predictor.load_state_dict(ckpt["predictor"])
        args.out.mkdir(parents=True, exist_ok=True)
        term = ckpt.get("state_term")
        result = diagnostics(encoder, predictor, data, held_rows, cfg, ckpt["seed"],
                             np.array(term["scale_m"], np.float32) if term else None)
        (args.out / "diagnostics.json").write_text(json.dumps(result, indent=2) + "\n")
        log(json.dumps(result, indent=2))
        return 0
    encoder, predictor = wm.build(cfg, args.seed)
    if args.init:
        try:
            start_from(encoder, predictor, cfg, args.init)
        except (OSError, RuntimeError, KeyError, ValueError) as e:
            log(f"train: --init {args.init}: {e}"); return 2
        log(f"[train] starting from {args.init}")
    log(f"[train] encoder {wm.parameter_count(encoder):,} + predictor {wm.parameter_count(predictor):,} parameters; "
        f"{len(train_rows):,} training sequences of {args.rollout + 1} frames, {len(held_rows):,} held out; "
        f"{args.steps} steps x {args.batch}; {args.threads} threads")
    params = list(encoder.parameters()) + list(predictor.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-3)
    warmup = min(100, args.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, args.steps - warmup))))
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    scales = state_scales(args)
    sigreg_from = len(STATE_COLUMNS) if args.sigreg_dims == "free" and args.state_loss > 0 else 0
    args.out.mkdir(parents=True, exist_ok=True)
    loss_log = open(args.out / "loss.jsonl", "w")
    start = time.time()
    encoder.train(); predictor.train()
    running = None
    for step in range(1, args.steps + 1):
        rows = train_rows[rng.integers(0, len(train_rows), args.batch)][:, 1]
        pixels, actions = data.batch(rows)
        teacher, open_loop, reg, z = losses(encoder, predictor, pixels, actions, cfg, args.sigreg_directions, gen,
                                            sigreg_from)
        state = F.mse_loss(z[..., :len(STATE_COLUMNS)], data.states(rows, scales)) if args.state_loss > 0 else torch.zeros(())
        loss = teacher + open_loop + args.sigreg * reg + args.state_loss * state
        if not torch.isfinite(loss):
            log(f"train: loss became {loss.item()} at step {step}; stopping (lower --lr?)"); return 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step(); sched.step()
        values = np.array([loss.item(), teacher.item(), open_loop.item(), reg.item(), state.item()])
        running = values if running is None else 0.95 * running + 0.05 * values
        if step % args.log_every == 0 or step == args.steps:
            elapsed = time.time() - start
            eta = elapsed / step * (args.steps - step)
            entry = {"step": step, "loss": values[0], "teacher_mse": values[1], "rollout_mse": values[2],
                     "sigreg": values[3], "state_mse": values[4], "lr": sched.get_last_lr()[0], "elapsed_s": round(elapsed, 1),
                     "latent_std": float(z.detach().std(dim=(0, 1)).mean())}
            loss_log.write(json.dumps(entry) + "\n"); loss_log.flush()
            log(f"[train] step {step}/{args.steps}  loss {running[0]:.4f} (teacher {running[1]:.4f}, rollout "
                f"{running[2]:.4f}, sigreg {running[3]:.3f}, state {running[4]:.4f})  {step / elapsed:.2f} steps/s  "
                f"elapsed {elapsed / 60:.1f} min  eta {eta / 60:.1f} min")
    loss_log.close()
    train_s = time.time() - start
    init = str(args.init) if args.init else None   # where this run started from, for weights.pt and report.json
    encoder.eval(); predictor.eval()
    torch.save({"config": cfg.as_dict(), "encoder": encoder.state_dict(), "predictor": predictor.state_dict(),
                "action_std": ACTION_STD, "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD,
                "seed": args.seed, "steps": args.steps, "torch": torch.__version__,
                "init": init,
                "state_term": state_term(args)}, args.out / "weights.pt")
    report = {"train_seconds": round(train_s, 1), "steps": args.steps, "batch": args.batch, "seed": args.seed,
              "init": init,
              "data": " ".join(str(p) for p in args.data), "frames": int(len(data.pixels)), "episodes": int(len(data.ep_len)),
              "config": cfg.as_dict(), "threads": args.threads, "state_term": state_term(args),
              "final_running_loss": {"loss": running[0], "teacher_mse": running[1], "rollout_mse": running[2],
                                     "sigreg": running[3], "state_mse": running[4]}}
    report.update(diagnostics(encoder, predictor, data, held_rows, cfg, args.seed, scales if args.state_loss > 0 else None))
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"[train] done in {train_s / 60:.1f} min; weights {args.out / 'weights.pt'}; report {args.out / 'report.json'}")
    log(f"[train] held-out open-loop MSE per step: {', '.join(f'{x:.4f}' for x in report['heldout_open_loop_mse'])}")
    if isinstance(report.get("linear_probe"), dict):
        log(f"[train] linear probe RMSE: " + ", ".join(f"{k} {v:.2f}" for k, v in report["linear_probe"].items()))
    for name, e in report.get("state_dims_cm", {}).items():
        log(f"[train] state dims, {name} ({e['sequences']} sequences): block encoded {e['block_encoded']:.2f} cm, "
            f"predicted {', '.join(f'{x:.2f}' for x in e['block_predicted'])} cm after 1..{len(e['block_predicted'])} blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
