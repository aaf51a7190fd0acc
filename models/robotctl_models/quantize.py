"""Dynamic int8 quantisation of a predictor's matrix products, with robotctl's own tools (onnx + numpy).

Every MatMul whose right operand is a constant weight W (K x N) becomes

    A_q, A_scale, A_zero = DynamicQuantizeLinear(A)                 (uint8, per tensor, at run time)
    Y_int = MatMulInteger(A_q, W_q, A_zero, W_zero)                 (int32; ONNX Runtime's u8 x s8 kernels)
    Y     = Cast(Y_int, float) * (A_scale * W_scale)                (W_scale: one per output column)

with W quantised once, symmetric, per output column (W_zero = 0), all in one node: ONNX Runtime's fused
com.microsoft DynamicQuantizeMatMul (the three separate standard ops measured 8 % slower than fp32 here, the fused one
1.4x faster; docs/PERFORMANCE.md). Where several products read one activation (q, k and v; the AdaLN modulation's
six chunks) it is quantised once, by one DynamicQuantizeLinear, and each product is a com.microsoft
MatMulIntegerToFloat of it. A weight reached through an Identity node (the exporter's way of sharing one initializer
between two call sites) counts as constant, and gets one int8 copy however many products read it. Everything else (attention's activation x activation products, norms, GELU) stays
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
    # The exporter hands a weight used at two call sites (the shared-context graph's context and candidates) through
    # Identity nodes: follow them to the initializer.
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    quantizable = []
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        array = numpy_helper.to_array(w) if w is not None else None
        if array is not None and array.ndim == 2 and array.dtype == np.float32 and not any(p in node.name for p in skip):
            quantizable.append((node, w.name, array))
    # Products of one activation (q, k and v; the AdaLN modulation's chunks) quantise it once and share it.
    readers: dict[str, int] = {}
    for node, _, _ in quantizable:
        readers[node.input[0]] = readers.get(node.input[0], 0) + 1
    plan = {id(node): (name, array) for node, name, array in quantizable}
    # One int8 copy per weight, however many products read it (the context's and the candidates').
    quantized_weights: dict[str, str] = {}
    nodes, new_inits, quantized_inputs = [], [], set()
    for node in graph.node:
        if id(node) not in plan:
            nodes.append(node)
            continue
        name, array = plan[id(node)]
        base, a = node.output[0], node.input[0]
        if name not in quantized_weights:
            quantized_weights[name] = q = f"{base}_W"
            scale = np.abs(array).max(axis=0) / 127.0
            scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
            w_q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
            new_inits += [
                numpy_helper.from_array(w_q, f"{q}q"),
                numpy_helper.from_array(np.zeros(array.shape[1], np.int8), f"{q}zero"),
                numpy_helper.from_array(scale, f"{q}scale"),
            ]
        q = quantized_weights[name]
        if readers[a] == 1:
            # ONNX Runtime's fused kernel (com.microsoft DynamicQuantizeMatMul): quantises A per tensor at run time,
            # multiplies u8 x s8 into int32 and rescales, in one pass over A and Y.
            nodes.append(helper.make_node("DynamicQuantizeMatMul", [a, f"{q}q", f"{q}scale", f"{q}zero"],
                                          [base], name=f"{base}_dqmm", domain="com.microsoft"))
        else:
            aq, ascale, azero = f"{a}_q", f"{a}_qscale", f"{a}_qzero"
            if a not in quantized_inputs:
                nodes.append(helper.make_node("DynamicQuantizeLinear", [a], [aq, ascale, azero], name=f"{a}_dql"))
                quantized_inputs.add(a)
            nodes.append(helper.make_node("MatMulIntegerToFloat", [aq, f"{q}q", ascale, f"{q}scale", azero, f"{q}zero"],
                                          [base], name=f"{base}_mmitf", domain="com.microsoft"))
    # Identity nodes that handed a now-quantised weight to its products are read no more: drop them, then every
    # initializer only they read (the fp32 weights).
    read = {name for node in nodes for name in node.input} | {o.name for o in graph.output}
    nodes = [n for n in nodes if not (n.op_type == "Identity" and n.output[0] not in read)]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept_inits = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits + new_inits)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    fp32 = sum(1 for n in graph.node if n.op_type == "MatMul")
    return model, {"quantized_matmuls": len(quantizable), "fp32_matmuls": fp32,
                   "shared_activations": len(quantized_inputs)}


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
