"""Dynamic int8 quantisation of a predictor's matrix products, with robotctl's own tools (onnx + numpy).

Every MatMul whose right operand is a constant weight W (K x N) becomes

    A_q, A_scale, A_zero = DynamicQuantizeLinear(A)                 (uint8, per tensor, at run time)
    Y_int = MatMulInteger(A_q, W_q, A_zero, W_zero)                 (int32; ONNX Runtime's u8 x s8 kernels)
    Y     = Cast(Y_int, float) * (A_scale * W_scale)                (W_scale: one per output column)

with W quantised once, symmetric, per output column (W_zero = 0), all in one node: ONNX Runtime's fused
com.microsoft DynamicQuantizeMatMul (the three separate standard ops measured 8 % slower than fp32 here, the fused one
1.4x faster; docs/PERFORMANCE.md). Everything else (attention's activation x activation products, norms, GELU) stays
fp32. This is the transformation ONNX Runtime's own quantize_dynamic makes, written here because its Python package is
not installable on the target machine.

  PYTHONPATH=models /usr/bin/python3 -m robotctl_models.quantize IN.onnx OUT.onnx [--skip NAME ...]

`robotctl model quantize DIR` runs this on the model's predictor and then measures what it did.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize(model: onnx.ModelProto, skip: tuple[str, ...] = ()) -> tuple[onnx.ModelProto, dict]:
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    consumers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    nodes, quantized, kept = [], 0, 0
    new_inits = []
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        array = numpy_helper.to_array(w) if w is not None else None
        if array is None or array.ndim != 2 or array.dtype != np.float32 or any(p in node.name for p in skip):
            nodes.append(node)
            kept += node.op_type == "MatMul"
            continue
        base = node.output[0]
        scale = np.abs(array).max(axis=0) / 127.0
        scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
        w_q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
        new_inits += [
            numpy_helper.from_array(w_q, f"{base}_Wq"),
            numpy_helper.from_array(np.zeros(array.shape[1], np.int8), f"{base}_Wzero"),
            numpy_helper.from_array(scale, f"{base}_Wscale"),
        ]
        # ONNX Runtime's fused kernel (com.microsoft DynamicQuantizeMatMul): quantises A per tensor at run time, multiplies
        # u8 x s8 into int32 and rescales, in one pass over A and Y.
        nodes.append(helper.make_node("DynamicQuantizeMatMul", [node.input[0], f"{base}_Wq", f"{base}_Wscale", f"{base}_Wzero"], [base],
                                      name=f"{base}_dqmm", domain="com.microsoft"))
        quantized += 1
        if consumers.get(w.name, 0) == 1:
            weights.pop(w.name)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept_inits = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits + new_inits)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, {"quantized_matmuls": quantized, "fp32_matmuls": kept}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--skip", action="append", default=[], help="leave products whose node name contains this in fp32 (repeatable)")
    args = parser.parse_args(argv)
    try:
        model = onnx.load(args.input)
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        print(f"quantize: {args.input}: not an ONNX model ({e})", file=sys.stderr)
        return 2
    model, facts = quantize(model, tuple(args.skip))
    onnx.save(model, args.output)
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
