#!/usr/bin/env python3
"""PyTorch twin of benches/train.rs (not part of CI).

Times the same models, optimizer, batch sizes and data as
`cargo bench --features std --bench train`, on the CPU, so the two outputs
can be compared line by line:

    pip install torch numpy
    python3 benches/train_pytorch.py            # 2 threads, like the Rust bench's rayon pool
    python3 benches/train_pytorch.py --threads 1

The PyTorch models use PyTorch's native NCHW layout (its fast path); the
arithmetic (MACs, parameters) is identical to edgegrad's NHWC models.
"""
import argparse
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_digits(path):
    rows = [l for l in open(path) if not l.startswith("#")][1:]
    a = np.array([[float(v) for v in r.strip().split(",")] for r in rows], dtype=np.float32)
    x = torch.from_numpy(a[:, :64] / 16.0).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(a[:, 64].astype(np.int64))
    return x, y


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def epoch_ms(make, x, y, runs=7):
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()

    epoch()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        epoch()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def step_us(make, batch, runs=15):
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 8, 8)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(20):
        step()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(10):
            step()
        times.append((time.perf_counter() - t) * 1e6 / 10)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x, y = load_digits(os.path.join(HERE, "..", "data", "digits8x8_train.csv"))
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    for name, make in [("digits CNN", cnn), ("digits MLP", mlp)]:
        print(f"{name}: one epoch (1437 examples, batch 32, Adam): {epoch_ms(make, x, y):.1f} ms")
        for b in [1, 8, 32]:
            print(f"{name}: one training step at batch {b:>2}: {step_us(make, b):.1f} µs")


if __name__ == "__main__":
    main()
