"""What the checkpoint importers (lewm_import, vjepa2ac_import) share: bad input as one line and exit 2, the --out
check, short key lists for messages, file hashes, the check of the result by `robotctl model check`, and the guarded
main that turns failures into exit codes. robotctl's `model import` holds back the lines that start with an
importer's prefix and says them as its own."""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from . import model_check


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


def add_check_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-model-check", dest="model_check", action="store_false",
                        help="leave the check of the result to the caller (robotctl model import checks it itself); "
                             "without it the importer runs `robotctl model check` on it, reference cases included")


def check_result(directory: Path, wanted: bool, cases: int) -> tuple[str, float | None]:
    """`robotctl model check` on the model written into `directory` (its reference cases against ONNX Runtime), unless
    the caller checks it; returns what to report and the seconds it took (None: left to the caller). A model that
    fails raises model_check.CheckFailed: exit 1."""
    if not wanted:
        return f"{cases} reference cases written (checked by the caller)", None
    seconds = model_check.check(directory)
    return f"robotctl model check: usable, ONNX Runtime matches PyTorch on {cases} cases", seconds


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def guarded(prefix: str, work) -> tuple[int, object]:
    """Runs work(); bad input -> (2, None) with one line, a failed or impossible model check -> 1 with one line,
    Ctrl-C -> 130, anything else -> 1 with its traceback."""
    try:
        return 0, work()
    except BadInput as e:
        print(f"{prefix}{e}", file=sys.stderr, flush=True)
        return 2, None
    except model_check.CheckFailed as e:
        print(f"{prefix}{e}", file=sys.stderr, flush=True)
        return 1, None
    except KeyboardInterrupt:
        print(f"{prefix}interrupted; nothing written", file=sys.stderr, flush=True)
        return 130, None
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(f"{prefix}internal failure: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr, flush=True)
        return 1, None
