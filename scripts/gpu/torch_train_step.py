#!/usr/bin/env python3
"""The training step of bench:train in PyTorch, on the same machine, for a same-machine ratio.

    python3 scripts/gpu/torch_train_step.py [--batch 64,256,512] [--iterations 10] [--blocks 6,6,12]

Seed ResNet (torch_resnet.py), Adam 1e-3 on softmax cross-entropy, random images, fp32 eager
(TF32 off, so both sides do float32 arithmetic), one untimed warm-up, then `--iterations` timed
steps ending in a synchronisation; also the inference-mode forward pass. One JSON line per batch
size: {"engine": "pytorch", "device": ..., "batch": ..., "forward_img_s": ..., "train_img_s": ...}.
Exits 0 with a note when torch or a CUDA device is missing (the kit runs anywhere).
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"engine": "pytorch", "skipped": "torch is not installed"}))
    sys.exit(0)

from torch_resnet import ResNet  # noqa: E402 (beside this script)


def timed(device, iterations, run):
    run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", default="64,256,512")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--blocks", default="6,6,12")
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even when CUDA is there")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    blocks = tuple(int(b) for b in args.blocks.split(","))
    for batch in (int(b) for b in args.batch.split(",")):
        torch.manual_seed(0)
        model = ResNet(blocks=blocks).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(batch, 3, 32, 32, device=device) * 2 - 1
        labels = torch.randint(0, 10, (batch,), device=device)

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            logits, _ = model(x)
            F.cross_entropy(logits, labels).backward()
            optimizer.step()

        def forward():
            with torch.no_grad():
                model(x)

        model.train()
        train_s = timed(device, args.iterations, train_step)
        model.eval()
        forward_s = timed(device, args.iterations, forward)
        print(json.dumps({
            "engine": "pytorch", "torch": torch.__version__, "device": name, "batch": batch, "blocks": args.blocks,
            "forward_img_s": round(batch * args.iterations / forward_s, 1),
            "train_img_s": round(batch * args.iterations / train_s, 1),
        }), flush=True)


if __name__ == "__main__":
    main()
