"""Checks a model directory this package wrote with `robotctl model check`: the model contract, and every case of its
reference/ folder run through ONNX Runtime and compared with PyTorch's outputs (1e-4 + 1e-3 x max|reference|), by the
same code that loads models at run time.

robotctl is the command ROBOTCTL_BIN names (e.g. "dotnet /path/robotctl.dll", as scripts/train-workcell takes it),
else the newest build in this checkout: ./robotctl's (artifacts/bin/robotctl) or `dotnet build`'s
(src/RobotCtl/bin/{Release,Debug}/net10.0).
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILDS = [REPO / "artifacts" / "bin" / "robotctl" / "robotctl.dll"] + [
    REPO / "src" / "RobotCtl" / "bin" / configuration / "net10.0" / "robotctl.dll" for configuration in ("Release", "Debug")]


class CheckFailed(Exception):
    """The check could not run (robotctl not built) or the model failed it; the message says which, in one line."""


def command() -> list[str]:
    """How to start robotctl; raises CheckFailed when there is none, so callers can say so before their long work."""
    if os.environ.get("ROBOTCTL_BIN"):
        return shlex.split(os.environ["ROBOTCTL_BIN"])
    built = [p for p in BUILDS if p.is_file()]
    if not built:
        raise CheckFailed("robotctl is not built, and it checks the model: build it (`./robotctl --help` does, or "
                          "`dotnet build src/RobotCtl`), or name one with ROBOTCTL_BIN=\"dotnet /path/robotctl.dll\"")
    if shutil.which("dotnet") is None:
        raise CheckFailed("dotnet is not on PATH, and robotctl (which checks the model) runs on it: run scripts/setup")
    # A stale build may predate the checks: take the one built last.
    return ["dotnet", str(max(built, key=lambda p: p.stat().st_mtime))]


def check(directory: Path) -> float:
    """Runs `robotctl model check DIRECTORY` with its report on stderr (this package's progress stream); returns the
    seconds it took, raises CheckFailed with robotctl's reason when the model is not usable."""
    # PyTorch computed the references on the CPU: the CPU provider compares like with like on a CUDA build too.
    args = command() + ["model", "check", str(directory), "--provider", "cpu"]
    env = dict(os.environ)
    env.setdefault("ROBOTCTL_HOME", str(REPO))
    start = time.time()
    sys.stderr.flush()
    try:
        result = subprocess.run(args, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, env=env)
    except OSError as e:
        raise CheckFailed(f"cannot start {args[0]} to check the model: {e.strerror or e}") from None
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        reason = next((line for line in reversed(lines) if line.startswith("robotctl model check:")),
                      lines[-1] if lines else f"exit {result.returncode}")
        raise CheckFailed(f"{shlex.join(args)} exited with {result.returncode}: {reason}")
    return time.time() - start
