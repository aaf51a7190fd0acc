"""Compare `robotctl model score ... --latents --json` against the authors'
reference (lewm_authors_reference.py's or vjepa2ac_authors_reference.py's
refs.json).

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.parity_compare refs.json score.json [--tol 1e-3]

For each quantity: max |robotctl - reference| divided by the reference's RMS
(pass: <= tol), and the best candidate (argmin of the costs) must agree.
Prints one line per quantity, then PASS/FAIL; exit 0 on pass, 1 on fail.
"""

import argparse
import json
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("refs")
    p.add_argument("score")
    p.add_argument("--tol", type=float, default=1e-3)
    a = p.parse_args()
    with open(a.refs) as f:
        ref = json.load(f)
    with open(a.score) as f:
        got = json.load(f)

    pairs = [("costs", "costs", "costs"),
             ("final latents", "final_latents", "latents"),
             ("goal latent", "goal_latent", "goal_latent"),
             ("context latents", "context_latents", "context_latents")]
    ok = True
    for label, rk, gk in pairs:
        if gk not in got:
            if gk in ("costs", "latents"):
                print(f"{label:16s} MISSING from robotctl's output (key '{gk}')")
                ok = False
            else:
                print(f"{label:16s} not in robotctl's output (key '{gk}'): not compared")
            continue
        r = np.asarray(ref[rk], dtype=np.float64)
        g = np.asarray(got[gk], dtype=np.float64)
        if r.size != g.size:
            print(f"{label:16s} SHAPE mismatch: reference {r.shape}, robotctl {g.shape}")
            ok = False
            continue
        g = g.reshape(r.shape)
        rms = float(np.sqrt(np.mean(r ** 2)))
        maxdiff = float(np.max(np.abs(g - r)))
        rel = maxdiff / rms if rms > 0 else float("inf")
        passed = rel <= a.tol
        ok &= passed
        extra = ""
        if rk == "costs":
            spread = float(r.std())
            extra = f"  (cost spread std {spread:.6g}; max|diff|/spread {maxdiff / spread if spread else float('inf'):.3g})"
        print(f"{label:16s} max|diff| {maxdiff:.3e}  ref rms {rms:.6g}  rel {rel:.3e}  {'ok' if passed else 'FAIL'}{extra}")
    rbest = int(np.argmin(np.asarray(ref["costs"])))
    gbest = int(got["best"]) if "best" in got else int(np.argmin(np.asarray(got["costs"])))
    srt = np.sort(np.asarray(ref["costs"]))
    gap = float(srt[1] - srt[0]) if srt.size > 1 else float("nan")
    same = rbest == gbest
    ok &= same
    print(f"{'best':16s} reference {rbest}  robotctl {gbest}  {'ok' if same else 'FAIL'}  (reference gap to 2nd best {gap:.6g})")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
