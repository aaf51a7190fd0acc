"""Plain PyTorch CEM planner over a LeWM-shaped model: the baseline robotctl's planner is compared with.

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.torch_cem --model models/lewm-full [--samples 300 --topk 30 --iterations 30
      --horizon 5 --threads 2 --seed 0 --repeats 3 --json] [--observation obs.png --goal goal.png]

Semantics (LeWM / stable-worldmodel CEM): the search runs in the normalised action space
(a_norm = (a - action.mean) / action.std) over `horizon` action blocks of block*dim values; mean starts at 0 and
std at planner.init_std; dimensions with action.search = false are held at the normalised value of a physical
zero delta with std 0; sample 0 is forced to the current mean; the top-k samples by cost refit mean and
(population) std; nothing is clipped. A candidate's rollout starts from the observation's latent, calls the
predictor batched over all samples, appends the last position's prediction and feeds back the last `history`
frames (window lengths 1, 2, ..., history, history, ...). Cost = sum of squared differences between the last
predicted latent and the goal latent. The plan is the final mean, de-normalised.

Weights: models/<name>/weights.pt when present (make_models.py --full writes it), otherwise the model is rebuilt
from model.json's generator seed and architecture; either way the encoder is checked against reference/encoder_b1
before timing, so the baseline provably runs the same network as the ONNX files.
Timing: one CEM iteration warms up (every window length and the batch size), then `repeats` full plans are
timed with the same seed: wall time, and the process's CPU time (all threads), which shows contention on a
shared machine (CPU time near threads x wall time means the threads had the cores). GFLOP comes from model.json "flops" (matrix products only).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from . import arch


def load(directory: Path) -> tuple[dict, torch.nn.Module, torch.nn.Module]:
    manifest = json.loads((directory / "model.json").read_text())
    if manifest.get("family") != "lewm":
        raise SystemExit(f"{directory}/model.json: family '{manifest.get('family')}' is not supported by this "
                         "baseline (expected 'lewm')")
    weights = directory / "weights.pt"
    if weights.exists():
        saved = torch.load(weights, map_location="cpu")
        encoder, predictor = arch.build(arch.LewmConfig(**saved["config"]), saved["seed"])
        encoder.load_state_dict(saved["encoder"])
        predictor.load_state_dict(saved["predictor"])
    else:
        generator = manifest.get("generator") or {}
        if "arch" not in generator or "seed" not in generator:
            raise SystemExit(f"{directory}: no weights.pt and no generator.arch/seed in model.json to rebuild from")
        encoder, predictor = arch.build(arch.LewmConfig(**generator["arch"]), generator["seed"])
    _check_reference(directory, encoder)
    return manifest, encoder.eval(), predictor.eval()


def formula_input(shape, offset: float) -> torch.Tensor:
    n = int(np.prod(shape))
    return torch.from_numpy(np.sin(np.arange(n, dtype=np.float64) * 0.0137 + offset).astype(np.float32).reshape(shape))


def _check_reference(directory: Path, encoder) -> None:
    index = directory / "reference" / "reference.json"
    if not index.exists():
        return
    case = next(c for c in json.loads(index.read_text())["cases"] if c["name"] == "encoder_b1")
    want = np.fromfile(directory / "reference" / case["output"]["file"], dtype="<f4").reshape(case["output"]["shape"])
    with torch.no_grad():
        got = encoder(formula_input(case["inputs"]["pixels"]["shape"], case["inputs"]["pixels"]["offset"])).numpy()
    if np.abs(got - want).max() > 1e-4:
        raise SystemExit(f"{directory}: the PyTorch weights do not reproduce reference/encoder_b1.bin "
                         f"(max |diff| {np.abs(got - want).max():.3g}); regenerate the model")


def image(path: Path | None, manifest: dict, offset: float) -> torch.Tensor:
    """[1, 3, H, W] normalised pixels: from a PNG (x = (p / scale - mean) / std), or from the formula."""
    spec = manifest["image"]
    if path is None:
        return formula_input([1, 3, spec["height"], spec["width"]], offset)
    from PIL import Image  # only needed for image files
    rgb = np.asarray(Image.open(path).convert("RGB").resize((spec["width"], spec["height"])), dtype=np.float32)
    x = (rgb / spec["scale"] - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


class Cem:
    def __init__(self, manifest: dict, predictor, samples: int, topk: int, iterations: int, horizon: int):
        action = manifest["action"]
        self.predictor = predictor
        self.samples, self.topk, self.iterations, self.horizon = samples, topk, iterations, horizon
        self.history = manifest["predictor"]["history"]
        self.init_std = manifest["planner"]["init_std"]
        block = action["block"]
        self.mean_phys = torch.tensor(action["mean"] * block)
        self.std_phys = torch.tensor(action["std"] * block)
        self.fixed = ~torch.tensor(action["search"] * block)
        self.zero = -self.mean_phys / self.std_phys          # normalised value of a physical zero delta

    def plan(self, z_obs: torch.Tensor, z_goal: torch.Tensor, seed: int, iterations: int | None = None):
        generator = torch.Generator().manual_seed(seed)
        width = self.zero.numel()
        mean = torch.zeros(self.horizon, width)
        std = torch.full((self.horizon, width), float(self.init_std))
        mean[:, self.fixed] = self.zero[self.fixed]
        std[:, self.fixed] = 0.0
        latents = torch.empty(self.samples, self.horizon + 1, z_obs.shape[-1])
        cost = None
        for _ in range(iterations or self.iterations):
            candidates = mean + std * torch.randn(self.samples, self.horizon, width, generator=generator)
            candidates[0] = mean
            cost = self.rollout_cost(z_obs, z_goal, candidates, latents)
            elites = candidates[torch.topk(cost, self.topk, largest=False).indices]
            mean, std = elites.mean(0), elites.std(0, unbiased=False)
        return mean * self.std_phys + self.mean_phys, float(cost.min())

    def rollout_cost(self, z_obs, z_goal, candidates, latents) -> torch.Tensor:
        latents[:, 0] = z_obs
        for step in range(self.horizon):
            first = max(0, step + 1 - self.history)
            window = latents[:, first:step + 1]
            latents[:, step + 1] = self.predictor(window, candidates[:, first:step + 1])[:, -1]
        return ((latents[:, -1] - z_goal) ** 2).sum(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--topk", type=int)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--horizon", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--observation", type=Path, help="PNG; default: formula image, offset 0.1")
    parser.add_argument("--goal", type=Path, help="PNG; default: formula image, offset 1.7")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    manifest, encoder, predictor = load(args.model)
    planner = manifest["planner"]
    samples = args.samples or planner["samples"]
    topk = args.topk or planner["topk"]
    iterations = args.iterations or planner["iterations"]
    horizon = args.horizon or planner["horizon"]
    if not 0 < topk <= samples:
        raise SystemExit(f"--topk {topk} must be in 1..samples ({samples})")
    say = (lambda *_: None) if args.json else print

    with torch.no_grad():
        start = time.perf_counter()
        z_obs = encoder(image(args.observation, manifest, 0.1))[0]
        z_goal = encoder(image(args.goal, manifest, 1.7))[0]
        encode_ms = (time.perf_counter() - start) * 1e3 / 2
        say(f"model {args.model} ({sum(p.numel() for p in encoder.parameters()) + sum(p.numel() for p in predictor.parameters()):,} params), "
            f"encode {encode_ms:.1f} ms/image, threads {args.threads}")
        cem = Cem(manifest, predictor, samples, topk, iterations, horizon)
        cem.plan(z_obs, z_goal, args.seed, iterations=1)          # warm-up: every window length, full batch
        times, cpu_times, plan, cost = [], [], None, None
        for repeat in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            plan, cost = cem.plan(z_obs, z_goal, args.seed)
            times.append((time.perf_counter() - start) * 1e3)
            cpu_times.append((time.process_time() - cpu_start) * 1e3)
            say(f"plan {repeat + 1}/{args.repeats}: {times[-1]:.0f} ms (process CPU {cpu_times[-1]:.0f} ms), "
                f"best cost {cost:.5f}")

    per_sample = manifest["flops"]["predictor_per_sample"]
    windows = [min(step + 1, cem.history) for step in range(horizon)]
    gflop = iterations * samples * sum(per_sample[str(t)] for t in windows) / 1e9
    median = statistics.median(times)
    result = {
        "model": str(args.model), "plan_ms": [round(t, 1) for t in times], "median_ms": round(median, 1),
        "plan_cpu_ms": [round(t, 1) for t in cpu_times],
        "iterations": iterations, "samples": samples, "topk": topk, "horizon": horizon, "history": cem.history,
        "predictor_calls": iterations * horizon, "predictor_steps": iterations * horizon * samples,
        "gflop": round(gflop, 2), "gflops_per_s": round(gflop / (median / 1e3), 2),
        "encode_ms_per_image": round(encode_ms, 1), "final_best_cost": cost,
        "first_action": [round(v, 6) for v in plan[0, :len(manifest["action"]["mean"])].tolist()],
        "torch_version": torch.__version__, "threads": args.threads, "seed": args.seed,
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
