"""Turns the JSON of scripts/eval-workcell's runs into docs tables (results.md) and the budget plot (budget.png).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.training.eval_report docs/eval
  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.training.eval_report --compare "label=folder" ...
      one row per folder (each holding reach-model.json and push-model.json): a recipe comparison table on stdout
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def load(folder: Path) -> dict[str, dict]:
    return {p.name[:-len(".json")]: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def row(name: str, r: dict) -> str:
    lo, hi = r["ci95"]
    steps = r.get("mean_steps_to_success")
    yaw = r.get("yaw_error_deg_mean")
    return (f"| {name} | {r['successes']}/{r['episodes']} = **{pct(r['success_rate'])}** | {pct(lo)}-{pct(hi)} | "
            f"{'-' if steps is None else f'{steps:.1f}'} | {r['final_error_cm_mean']:.1f} / {r['final_error_cm_median']:.1f} | "
            f"{'-' if yaw is None else f'{yaw:.1f}'} | {r['plan_ms_p50']:.0f} / {r['plan_ms_p99']:.0f} |")


# Start-goal distance bins (cm) per task: reach targets are 10-75 cm away, push targets 5-12 cm.
DISTANCE_BINS = {"reach": [10, 20, 30, 45, 80], "push": [5, 7, 9, 12.01]}


def by_distance(runs: dict[str, dict]) -> list[str]:
    """Success by how far the task asked to go (per_episode start_error_cm), one table per task."""
    lines = []
    for task, edges in DISTANCE_BINS.items():
        named = [(k, r) for k, r in runs.items() if r["task"] == task and r["per_episode"]
                 and "start_error_cm" in r["per_episode"][0]]
        if not named:
            continue
        bins = list(zip(edges[:-1], edges[1:]))
        lines += ["", f"{task}: success by start-goal distance ({'effector' if task == 'reach' else 'block'} to target, cm):", "",
                  "| run | " + " | ".join(f"{lo:g}-{hi:g} cm" for lo, hi in bins) + " |",
                  "| --- |" + " --- |" * len(bins)]
        for name, r in named:
            cells = []
            for lo, hi in bins:
                eps = [e for e in r["per_episode"] if lo <= e["start_error_cm"] < hi]
                cells.append(f"{sum(e['success'] for e in eps)}/{len(eps)}" if eps else "-")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def budget_curves(runs: dict[str, dict], folder: Path) -> list[str]:
    """Success against planning budget: a table per task with <task>-budget-*.json runs (<task>-horizon-* runs join
    the table), and one plot of both tasks' curves (budget.png)."""
    lines, curves = [], {}
    for task in ("reach", "push"):
        sweep = sorted((r for k, r in runs.items() if k.startswith(f"{task}-budget-")),
                       key=lambda r: (r["samples"] * r["iterations"], r["samples"]))
        if not sweep:
            continue
        curves[task] = sweep
        lines += ["", f"Success against planning budget ({task}, learned model):", "",
                  "| samples x iterations, horizon | success | Wilson 95 % | final error mean / median (cm) | plan ms p50 / p99 |",
                  "| --- | --- | --- | --- | --- |"]
        for r in sweep + [r for k, r in runs.items() if k.startswith(f"{task}-horizon-")]:
            lo, hi = r["ci95"]
            lines.append(f"| {r['samples']} x {r['iterations']}, H{r['horizon']} ({r['episodes']} episodes) | **{pct(r['success_rate'])}** | "
                         f"{pct(lo)}-{pct(hi)} | {r['final_error_cm_mean']:.1f} / {r['final_error_cm_median']:.1f} | "
                         f"{r['plan_ms_p50']:.0f} / {r['plan_ms_p99']:.0f} |")
    if not curves:
        return lines
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("eval_report: matplotlib missing (apt-get install python3-matplotlib); no plot", file=sys.stderr)
        return lines
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for task, sweep in curves.items():
        xs = [r["plan_ms_p50"] for r in sweep]
        ys = [100 * r["success_rate"] for r in sweep]
        lo = [100 * (r["success_rate"] - r["ci95"][0]) for r in sweep]
        hi = [100 * (r["ci95"][1] - r["success_rate"]) for r in sweep]
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", capsize=4, label=f"learned model ({task})")
        for r, x, y in zip(sweep, xs, ys):
            ax.annotate(f"{r['samples']}x{r['iterations']}", (x, y), textcoords="offset points", xytext=(6, -12), fontsize=8)
        oracle = runs.get(f"{task}-oracle")
        if oracle:
            ax.axhline(100 * oracle["success_rate"], color="gray", ls="--",
                       label=f"oracle {oracle['samples']}x{oracle['iterations']} ({task}, true state)")
    ax.set_xscale("log")
    ax.set_xlabel("plan time p50 (ms, 2-core CPU, log scale)")
    ax.set_ylabel("success rate (%), Wilson 95 %")
    ax.set_ylim(0, 105)
    ax.set_title(f"{' and '.join(curves)}: success against planning budget")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "budget.png")
    return lines + ["", "![success against plan time](budget.png)"]


def compare(pairs: list[str]) -> int:
    lines = ["| recipe | reach | push | push final error median (cm) | reach / push plan ms p50 |", "| --- | --- | --- | --- | --- |"]
    for pair in pairs:
        label, _, folder = pair.partition("=")
        runs = load(Path(folder))
        cells = []
        for task in ("reach", "push"):
            r = runs.get(f"{task}-model")
            cells.append("-" if r is None else f"**{pct(r['success_rate'])}** ({r['successes']}/{r['episodes']}; {pct(r['ci95'][0])}-{pct(r['ci95'][1])})")
        push = runs.get("push-model")
        med = "-" if push is None else f"{push['final_error_cm_median']:.1f}"
        ms = " / ".join("-" if runs.get(f"{t}-model") is None else f"{runs[f'{t}-model']['plan_ms_p50']:.0f}" for t in ("reach", "push"))
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {med} | {ms} |")
    print("\n".join(lines))
    return 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--compare":
        return compare(sys.argv[2:])
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: eval_report.py <folder of eval JSON files>", file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    runs = load(folder)
    if not runs:
        print(f"eval_report: no *.json in {folder}", file=sys.stderr)
        return 2
    lines = ["# Evaluation results (generated by scripts/eval-workcell; do not edit)", ""]
    any_run = next(iter(runs.values()))
    model_dir = Path(any_run["model_dir"])
    repo = Path(__file__).resolve().parents[3]
    shown = model_dir.relative_to(repo) if model_dir.is_relative_to(repo) else model_dir
    lines.append(f"Model `{shown}`, seed {any_run['seed']}, commands at {any_run['rate_hz']} Hz, "
                 f"{any_run['commands_per_cycle']} commands per plan.")
    rows = []
    for task in ("reach", "push"):
        for planner in ("model", "model-subgoals", "oracle", "random"):
            r = runs.get(f"{task}-{planner}")
            if r:
                budget = "" if planner == "random" else f", {r['samples']} x {r['iterations']} x {r['horizon']}, cost {r['cost_shape']}"
                label = planner.replace("model-subgoals", "model with the pre-push sub-goal")
                rows.append(row(f"{task}, {label}{budget}", r))
    if rows:   # a folder of budget runs alone has none
        lines += ["", "| task, planner | success | Wilson 95 % | mean steps to success | final error mean / median (cm) | "
                  "push yaw error (deg) | plan ms p50 / p99 |", "| --- | --- | --- | --- | --- | --- | --- |"] + rows
    lines += by_distance(runs)
    lines += budget_curves(runs, folder)
    (folder / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
