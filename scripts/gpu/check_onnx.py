#!/usr/bin/env python3
"""Checks an ONNX model written by `embedding-timelapse export-onnx` with the reference tools.

    python3 scripts/gpu/check_onnx.py MODEL.onnx SAMPLE.json [--threads N]

SAMPLE.json (written by `npx tsx scripts/gpu/make-onnx-sample.ts`) holds a few input images and
the outputs the tfjs layers model (inference mode) computed for them:
    {"shape": [n, 32, 32, 3], "images": [...n*3072 floats, NHWC in [-1, 1]...],
     "logits": [...n*classes...], "embedding": [...n*width...]}

Prints the result of onnx.checker (full check, with shape inference), the graph's inputs, outputs
and operators, and the max relative difference (per row: max |a - b| / max |a|, as the issue
defines it) between ONNX Runtime's outputs and the expected ones. Exit status 0 when the checker
passes and both differences are below 1e-4, else 1. Needs numpy, onnx, onnxruntime.
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4


def max_relative_row_error(expected: np.ndarray, actual: np.ndarray) -> float:
    diff = np.abs(expected - actual).max(axis=1)
    magnitude = np.abs(expected).max(axis=1)
    return float(np.where(magnitude > 0, diff / np.where(magnitude > 0, magnitude, 1), diff).max())


def dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("sample")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    ok = True
    model = onnx.load(args.model)
    try:
        onnx.checker.check_model(model, full_check=True)
        print(f"onnx.checker: OK (onnx {onnx.__version__}, ir_version {model.ir_version}, "
              f"opsets {[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]})")
    except Exception as error:  # the checker raises several exception types
        ok = False
        print(f"onnx.checker: FAILED: {error}")
    graph = model.graph
    print("inputs:", [(i.name, dims(i)) for i in graph.input])
    print("outputs:", [(o.name, dims(o)) for o in graph.output])
    ops = {}
    for node in graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print("operators:", ops)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    print("shape inference: OK,", len(inferred.graph.value_info), "intermediate shapes inferred")

    with open(args.sample) as f:
        sample = json.load(f)
    images = np.asarray(sample["images"], dtype=np.float32).reshape(sample["shape"])
    n = images.shape[0]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    logits, embedding = session.run(["logits", "embedding"], {"images": images})
    expected_logits = np.asarray(sample["logits"], dtype=np.float32).reshape(n, -1)
    expected_embedding = np.asarray(sample["embedding"], dtype=np.float32).reshape(n, -1)
    logits_error = max_relative_row_error(expected_logits, logits)
    embedding_error = max_relative_row_error(expected_embedding, embedding)
    print(f"onnxruntime {ort.__version__}: {n} images, logits {list(logits.shape)}, embedding {list(embedding.shape)}")
    print(f"max relative difference vs tfjs: logits {logits_error:.3e}, embedding {embedding_error:.3e} (tolerance {TOLERANCE:g})")
    ok = ok and logits_error < TOLERANCE and embedding_error < TOLERANCE
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
