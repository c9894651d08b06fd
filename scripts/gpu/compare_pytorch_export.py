#!/usr/bin/env python3
"""Is our exported graph as fast in ONNX Runtime as the one PyTorch exports for the same ResNet?

    python3 scripts/gpu/compare_pytorch_export.py OUR_MODEL.onnx [--threads 1,2] [--batch 256] [--seconds 5]

Builds the seed's ResNet (docs/model.md) in PyTorch, eval mode, with non-trivial batch-norm
statistics, exports it with torch.onnx.export (opset 13, dynamic batch), then times ONNX Runtime
on both files at the same batch size and thread counts, one after the other in this process
(pinned to the first two CPUs where the OS allows, to mimic the 2-core machine). Also prints
PyTorch's own forward speed on the same threads. Needs torch, onnx, onnxruntime, numpy.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch


from torch_resnet import ResNet  # noqa: E402 (beside this script)


def export_torch(path: str) -> str:
    torch.manual_seed(0)
    model = ResNet().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.3, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 32, 32)
    common = dict(input_names=["images"], output_names=["logits", "embedding"], opset_version=13)
    try:
        torch.onnx.export(model, (x,), path, dynamo=False, do_constant_folding=True,
                          dynamic_axes={"images": {0: "N"}, "logits": {0: "N"}, "embedding": {0: "N"}}, **common)
        how = "torch.onnx.export (TorchScript exporter)"
    except Exception as error:  # newer torch may have dropped the TorchScript exporter
        print("TorchScript exporter failed:", str(error).splitlines()[0])
        batch = torch.export.Dim("N", min=1, max=4096)
        program = torch.onnx.export(model, (x,), dynamo=True, dynamic_shapes=({0: batch},), **common)
        program.optimize()
        program.save(path)
        how = "torch.onnx.export (dynamo exporter)"
    return how


def op_counts(path: str) -> dict:
    counts = {}
    for node in onnx.load(path).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def images_per_second(path: str, images: np.ndarray, threads: int, seconds: float) -> float:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {"images": images}
    session.run(None, feeds)
    runs, started = 0, time.perf_counter()
    while runs < 2 or time.perf_counter() - started < seconds:
        session.run(None, feeds)
        runs += 1
    return runs * images.shape[0] / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ours")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {0, 1})
        print("pinned to CPUs", sorted(os.sched_getaffinity(0)))
    except Exception as error:
        print("could not pin CPUs:", error)
    theirs = os.path.join(tempfile.mkdtemp(), "torch_resnet.onnx")
    print("exported with", export_torch(theirs), "torch", torch.__version__, "onnxruntime", ort.__version__)
    print("ours  :", op_counts(args.ours))
    print("torch :", op_counts(theirs))
    rng = np.random.default_rng(0)
    nhwc = rng.uniform(-1, 1, (args.batch, 32, 32, 3)).astype(np.float32)
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    model = None
    for threads in [int(t) for t in args.threads.split(",")]:
        for label, path, x in (("ours (NHWC + Transpose)", args.ours, nhwc), ("torch export (NCHW)", theirs, nchw),
                               ("ours (NHWC + Transpose)", args.ours, nhwc)):
            print(f"onnxruntime {label:26s} threads {threads} batch {args.batch}: {images_per_second(path, x, threads, args.seconds):8.1f} img/s")
        torch.set_num_threads(threads)
        model = model or ResNet().eval()
        with torch.no_grad():
            xt = torch.from_numpy(nchw)
            model(xt)
            runs, started = 0, time.perf_counter()
            while runs < 2 or time.perf_counter() - started < args.seconds:
                model(xt)
                runs += 1
        print(f"pytorch eager                          threads {threads} batch {args.batch}: {runs * args.batch / (time.perf_counter() - started):8.1f} img/s")


if __name__ == "__main__":
    main()
