"""What the checkpoint importers (lewm_import.py, vjepa2ac_import.py) share: bad input as one line and exit 2, the
--out check, short key lists for messages, file hashes, and the guarded main that turns failures into exit codes.
robotctl's `model import` holds back the lines that start with an importer's prefix and says them as its own."""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ort_check  # noqa: E402


class BadInput(Exception):
    """What the user gave is wrong; reported in one line, exit 2."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are bad input (one line, exit 2), not its usage text and exit 2 of its own."""

    def error(self, message: str):
        raise BadInput(f"arguments: {message} (see --help)")


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise BadInput(f"--out {out}: exists and is not empty (expected a new or empty folder)")
    # The model is built beside --out and renamed into place: prove that folder takes a new entry before the (long)
    # conversion, so that /proc or a read-only mount is refused naming --out, not reported as an internal failure.
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
    except OSError as e:
        raise BadInput(f"--out {out}: cannot write there ({e.strerror or e})") from None


def torch_load(path: Path, where: str, what: str):
    """torch.load as the importers read a checkpoint: onto the CPU, tensors only where this torch can promise it
    (weights_only, torch >= 1.13: no arbitrary pickles), its warnings silenced. Any failure to unpickle is bad input:
    "{where}: not a loadable {what} (Error: first line)"."""
    import inspect
    import warnings

    import torch
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, **kwargs)
    except Exception as e:  # noqa: BLE001 - any failure to unpickle is bad input
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"{where}: not a loadable {what} ({type(e).__name__}: {first[:200]})") from None


def names(keys, limit: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:limit]) + (", ..." if len(keys) > limit else "")


def check_keys_and_shapes(expected: dict, state: dict, where: str, mismatch: str, shape_source: str,
                          ignorable=()) -> list:
    """Key-for-key and shape-for-shape agreement of a loaded state dict with the modules a configuration builds
    (name -> tensor both), as load_state_dict(strict=True) demands, said as bad input that names up to five keys of
    each kind. Keys in `ignorable` may be extra. Returns the extra keys that were ignored."""
    missing = set(expected) - set(state)
    unexpected = set(state) - set(expected)
    ignored = sorted(k for k in unexpected if k in ignorable)
    unexpected -= set(ignored)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key{'s' if len(missing) != 1 else ''} ({names(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key{'s' if len(unexpected) != 1 else ''} ({names(unexpected)})")
        raise BadInput(f"{where} does not match {mismatch}: {' and '.join(parts)}")
    wrong = [k for k in expected if tuple(state[k].shape) != tuple(expected[k].shape)]
    if wrong:
        k = wrong[0]
        more = f" (and {len(wrong) - 1} more key{'s' if len(wrong) > 2 else ''} of the wrong shape)" if len(wrong) > 1 else ""
        raise BadInput(f"{where} {k}: {shape_source} implies shape {list(expected[k].shape)}, found "
                       f"{list(state[k].shape)}{more}")
    return ignored


def onnxruntime_parity(directory: Path, cases: int) -> tuple[str, float | None]:
    """Runs the reference cases written into `directory` through the ONNX Runtime library robotctl itself loads
    (models/tools/ort_check.py); returns what to report and the seconds it took (None: library not installed, skipped).
    A difference beyond 1e-4 + 1e-3 x max|ref| fails the import (RuntimeError: exit 1)."""
    if not ort_check.DEFAULT_LIB.exists():
        return "skipped (ONNX Runtime library not found: run scripts/setup)", None
    t = time.time()
    with contextlib.redirect_stdout(sys.stderr):
        ok = ort_check.check(directory, ort_check.Ort(ort_check.DEFAULT_LIB, 2), atol=1e-4, rtol=1e-3)
    if not ok:
        raise RuntimeError("ONNX Runtime's outputs differ from PyTorch's references beyond 1e-4 + 1e-3 x max|ref|")
    return f"ONNX Runtime matches PyTorch on {cases} cases", time.time() - t


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def guarded(prefix: str, work) -> tuple[int, object]:
    """Runs work(); bad input -> (2, None) with one line, Ctrl-C -> 130, anything else -> 1 with its traceback."""
    try:
        return 0, work()
    except BadInput as e:
        print(f"{prefix}{e}", file=sys.stderr, flush=True)
        return 2, None
    except KeyboardInterrupt:
        print(f"{prefix}interrupted; nothing written", file=sys.stderr, flush=True)
        return 130, None
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(f"{prefix}internal failure: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr, flush=True)
        return 1, None
