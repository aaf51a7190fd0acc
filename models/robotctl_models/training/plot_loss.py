"""Plots train.py's loss log (needs Debian's python3-matplotlib):

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.training.plot_loss models/workcell/training/loss.jsonl out.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    steps = [r["step"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=110)
    a.plot(steps, [r["teacher_mse"] for r in rows], label="teacher-forced next-latent MSE")
    a.plot(steps, [r["rollout_mse"] for r in rows], label="3-block open-loop rollout MSE")
    if any(r.get("state_mse") for r in rows):
        a.plot(steps, [r["state_mse"] for r in rows], label="state term MSE (latent units)")
    a.set_yscale("log"); a.set_xlabel("step"); a.set_title("prediction losses"); a.grid(alpha=0.3); a.legend(fontsize=8)
    b.plot(steps, [r["sigreg"] for r in rows], color="tab:green", label="SIGReg statistic")
    b.plot(steps, [r["latent_std"] for r in rows], color="tab:red", label="latent std (per dim, mean)")
    b.set_yscale("log"); b.set_xlabel("step"); b.set_title("regulariser (no collapse: std stays ~1)"); b.grid(alpha=0.3)
    b.legend(fontsize=8)
    minutes = rows[-1]["elapsed_s"] / 60
    fig.suptitle(f"workcell model training: {steps[-1]} steps, {minutes:.0f} min on 2 CPU cores", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
