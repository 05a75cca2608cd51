"""The arithmetic floor of one sampling step, measured on this device.

A step of the 3x384 LSTM multiplies every weight once per sequence in the batch (2 FLOPs a
weight) and reads every weight once per step. So a step cannot take less than
    max(batch x FLOPs / peak FLOP rate,  weight bytes / memory bandwidth)
At batch 1 the second term rules (the 13 MB of weights stream from cache: ~0.7 ms here,
while the 6.5 MFLOP would take ~0.1 ms); from a batch of a few dozen the first does.
The peak rate is a large matrix product on this device, the bandwidth a sum over a tensor
the size of the weights (cache-warm, as the weights are in a sampling loop), both timed here.
"""

from __future__ import annotations

import time

import torch


def step_cost(model) -> dict:
    """FLOPs per token and weight bytes read per step of the reference step (embedding
    lookup aside: the input product of layer 0, every recurrent product, the head)."""
    weights = [p for name, p in model.named_parameters() if p.dim() == 2 and "embed" not in name]
    numel = sum(p.numel() for p in weights)
    return {"flops_per_token": 2 * numel, "weight_bytes": numel * weights[0].element_size()}


def _best_seconds(fn, repeats: int, rounds: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - started) / repeats)
    return best


@torch.inference_mode()
def peak_rates(model, device: str) -> dict:
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    n = 4096 if cuda else 1024
    a = torch.randn(n, n, device=device)

    def gemm() -> None:
        torch.mm(a, a)
        sync()

    flops = 2 * n**3 / _best_seconds(gemm, 20 if cuda else 3)
    size = step_cost(model)["weight_bytes"] // 4
    w = torch.randn(size, device=device)

    def stream() -> None:
        w.sum()
        sync()

    bandwidth = size * 4 / _best_seconds(stream, 50)
    return {"peak_gflops": round(flops / 1e9, 1), "weights_stream_gb_s": round(bandwidth / 1e9, 1)}


def floor_ms(cost: dict, rates: dict, batch: int) -> float:
    compute = batch * cost["flops_per_token"] / (rates["peak_gflops"] * 1e9)
    memory = cost["weight_bytes"] / (rates["weights_stream_gb_s"] * 1e9)
    return 1000 * max(compute, memory)
