#!/usr/bin/python3
"""Checks a generated model directory against its references with the real ONNX Runtime C library.

Python onnxruntime is not installed here, so this drives libonnxruntime.so (the C# runtime's own, from the
Microsoft.ML.OnnxRuntime NuGet package that scripts/setup restores) through ctypes and the C API's function table. It regenerates every reference input from its
formula, runs the case's graph, and prints the largest absolute and relative differences.

  /usr/bin/python3 models/tools/ort_check.py models/examples/lewm-small [--lib PATH] [--threads 2]
Exit status 1 when a case exceeds the tolerance (--atol, default 1e-4 + 1e-3 x max|reference|).
"""
from __future__ import annotations

import argparse
import ctypes as C
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _nuget_library() -> Path:
    """The linux-x64 libonnxruntime.so of the Microsoft.ML.OnnxRuntime version pinned in Directory.Packages.props,
    in the NuGet package folder (NUGET_PACKAGES, else ~/.nuget/packages), where `dotnet restore` puts it."""
    import os
    import re
    props = (REPO / "Directory.Packages.props").read_text()
    match = re.search(r'Include="Microsoft\.ML\.OnnxRuntime" Version="([^"]+)"', props)
    version = match.group(1) if match else "unknown"
    packages = Path(os.environ.get("NUGET_PACKAGES") or Path.home() / ".nuget" / "packages")
    return packages / "microsoft.ml.onnxruntime" / version.lower() / "runtimes" / "linux-x64" / "native" / "libonnxruntime.so"


DEFAULT_LIB = _nuget_library()
API_VERSION = 17          # any version the library supports; the table below is append-only across versions

# Indices into the OrtApi function table (onnxruntime_c_api.h, struct OrtApi, declaration order).
GET_ERROR_MESSAGE = 2
CREATE_ENV = 3
CREATE_SESSION = 7
RUN = 9
CREATE_SESSION_OPTIONS = 10
SET_INTRA_OP_NUM_THREADS = 24
CREATE_TENSOR_AS_ORT_VALUE = 48
CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49
GET_TENSOR_MUTABLE_DATA = 51
GET_DIMENSIONS_COUNT = 61
GET_DIMENSIONS = 62
GET_TENSOR_TYPE_AND_SHAPE = 65
CREATE_CPU_MEMORY_INFO = 69
FLOAT = 1                 # ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT


class Ort:
    def __init__(self, library: Path, threads: int):
        lib = C.CDLL(str(library))
        lib.OrtGetApiBase.restype = C.POINTER(C.c_void_p * 2)
        base = lib.OrtGetApiBase().contents
        get_api = C.CFUNCTYPE(C.c_void_p, C.c_uint32)(base[0])
        table = get_api(API_VERSION)
        if not table:
            raise RuntimeError(f"{library} does not support C API version {API_VERSION}")
        self._table = C.cast(table, C.POINTER(C.c_void_p * 80)).contents
        self._message = self._fn(GET_ERROR_MESSAGE, C.c_char_p, C.c_void_p)
        self.env = self._out(CREATE_ENV, C.c_int, C.c_char_p)(2, b"ort_check")
        self.options = self._out(CREATE_SESSION_OPTIONS)()
        self._call(SET_INTRA_OP_NUM_THREADS, C.c_void_p, C.c_int)(self.options, threads)
        self.memory = self._out(CREATE_CPU_MEMORY_INFO, C.c_int, C.c_int)(1, 0)

    def _fn(self, index, restype, *argtypes):
        return C.CFUNCTYPE(restype, *argtypes)(self._table[index])

    def _call(self, index, *argtypes):
        fn = self._fn(index, C.c_void_p, *argtypes)

        def call(*args):
            status = fn(*args)
            if status:
                raise RuntimeError(self._message(status).decode())
        return call

    def _out(self, index, *argtypes):
        """Functions whose last parameter is an out-pointer; returns the pointer."""
        fn = self._call(index, *argtypes, C.POINTER(C.c_void_p))

        def call(*args):
            out = C.c_void_p()
            fn(*args, C.byref(out))
            return out
        return call

    def session(self, path: Path):
        return self._out(CREATE_SESSION, C.c_void_p, C.c_char_p, C.c_void_p)(self.env, str(path).encode(),
                                                                            self.options)

    def run(self, session, inputs: dict[str, np.ndarray], output: str) -> np.ndarray:
        values, keep = [], []
        for array in inputs.values():
            array = np.ascontiguousarray(array, dtype=np.float32)
            shape = (C.c_int64 * array.ndim)(*array.shape)
            keep += [array, shape]
            values.append(self._out(CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE, C.c_void_p, C.c_void_p, C.c_size_t,
                                    C.c_void_p, C.c_size_t, C.c_int)(
                self.memory, array.ctypes.data, array.nbytes, shape, array.ndim, FLOAT))
        names = (C.c_char_p * len(inputs))(*[n.encode() for n in inputs])
        inputs_array = (C.c_void_p * len(values))(*[v.value for v in values])
        output_names = (C.c_char_p * 1)(output.encode())
        outputs = (C.c_void_p * 1)()
        self._call(RUN, C.c_void_p, C.c_void_p, C.c_void_p, C.c_void_p, C.c_size_t, C.c_void_p, C.c_size_t,
                   C.c_void_p)(session, None, names, inputs_array, len(values), output_names, 1, outputs)
        info = self._out(GET_TENSOR_TYPE_AND_SHAPE, C.c_void_p)(outputs[0])
        rank = C.c_size_t()
        self._call(GET_DIMENSIONS_COUNT, C.c_void_p, C.POINTER(C.c_size_t))(info, C.byref(rank))
        dims = (C.c_int64 * rank.value)()
        self._call(GET_DIMENSIONS, C.c_void_p, C.c_void_p, C.c_size_t)(info, dims, rank.value)
        data = self._out(GET_TENSOR_MUTABLE_DATA, C.c_void_p)(outputs[0])
        shape = tuple(dims)
        count = int(np.prod(shape))
        return np.ctypeslib.as_array(C.cast(data, C.POINTER(C.c_float)), shape=(count,)).copy().reshape(shape)


def formula_input(shape, offset: float) -> np.ndarray:
    n = int(np.prod(shape))
    return np.sin(np.arange(n, dtype=np.float64) * 0.0137 + offset).astype(np.float32).reshape(shape)


def check(directory: Path, ort: Ort, atol: float, rtol: float) -> bool:
    manifest = json.loads((directory / "model.json").read_text())
    reference = json.loads((directory / "reference" / "reference.json").read_text())
    sessions = {g: ort.session(directory / manifest[g]["file"]) for g in ("encoder", "predictor")}
    ok = True
    for case in reference["cases"]:
        inputs = {n: formula_input(s["shape"], s["offset"]) for n, s in case["inputs"].items()}
        got = ort.run(sessions[case["graph"]], inputs, case["output"]["name"])
        want = np.fromfile(directory / "reference" / case["output"]["file"], dtype="<f4").reshape(
            case["output"]["shape"])
        if got.shape != want.shape:
            print(f"  {case['name']}: shape {got.shape} != reference {want.shape}")
            ok = False
            continue
        diff = np.abs(got.astype(np.float64) - want)
        limit = atol + rtol * np.abs(want).max()
        passed = bool(diff.max() <= limit)
        ok &= passed
        print(f"  {case['name']:22s} max|diff| {diff.max():.3e}  mean|diff| {diff.mean():.3e}  "
              f"max|ref| {np.abs(want).max():.3f}  {'ok' if passed else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--lib", type=Path, default=DEFAULT_LIB)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--rtol", type=float, default=1e-3, help="relative to the case's max |reference|")
    args = parser.parse_args()
    ort = Ort(args.lib, args.threads)
    ok = True
    for directory in args.models:
        print(directory)
        ok &= check(directory, ort, args.atol, args.rtol)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
