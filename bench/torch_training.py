"""PyTorch side of the training benchmark (bench/training.mjs runs it when /usr/bin/python3
imports torch): samples/s of the same 784-W-W-10 MLPs (batch 256, Adam, softmax cross-entropy)
on one CPU thread, printed as JSON. Plain PyTorch equivalents written for this benchmark (no
code of DeepSplines or deel-torchlip): a per-channel linear-spline activation (size 21, range 2,
gather of the two coefficients around x, linear extrapolation), and Björck layers that follow
deel-torchlip's defaults (power-iteration spectral normalisation, then Björck to a tolerance of
1e-3 on ||W_t - W_t-1||_F, at most 15 iterations, the cubic term detached after the 4th)."""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
QUICK = '--quick' in sys.argv
N = 512 if QUICK else 1024
ROUNDS = 2 if QUICK else 4
BATCH = 256


class LinearSpline(nn.Module):
    """y = c[k] + (x - t_k) (c[k+1] - c[k]) / step per channel, k clamped to the grid."""

    def __init__(self, channels, size=21, grid_range=2.0, max_slope=None):
        super().__init__()
        self.size, self.step = size, 2 * grid_range / (size - 1)
        self.start = -grid_range
        self.max_slope = max_slope
        knots = torch.linspace(-grid_range, grid_range, size)
        self.coefficients = nn.Parameter(F.relu(knots).repeat(channels, 1))

    def forward(self, x):
        c = self.coefficients
        if self.max_slope is not None:  # clip the slopes, keep the mean (Ducotterd et al.)
            d = torch.clamp(torch.diff(c, dim=1), -self.max_slope * self.step, self.max_slope * self.step)
            c2 = torch.cat([c[:, :1], c[:, :1] + torch.cumsum(d, dim=1)], dim=1)
            c = c2 - c2.mean(dim=1, keepdim=True) + c.mean(dim=1, keepdim=True)
        u = (x - self.start) / self.step
        k = torch.clamp(torch.floor(u), 0, self.size - 2).long()
        idx = k + torch.arange(x.shape[1]).unsqueeze(0) * self.size
        flat = c.reshape(-1)
        c0, c1 = flat[idx], flat[idx + 1]
        return c0 + (u - k) * (c1 - c0)


class GroupSort2(nn.Module):
    def forward(self, x):
        a, b = x.reshape(x.shape[0], -1, 2).unbind(-1)
        return torch.stack([torch.minimum(a, b), torch.maximum(a, b)], -1).reshape(x.shape)


def bjorck(w, eps=1e-3, maxiter=15, detach_after=4):
    for i in range(maxiter):
        old = w
        cubic = w @ (w.t() @ w) if w.shape[0] > w.shape[1] else (w @ w.t()) @ w
        w = 1.5 * w - 0.5 * (cubic.detach() if i >= detach_after else cubic)
        if torch.linalg.norm(w - old) < eps:
            break
    return w


class SpectralLinear(nn.Linear):
    def __init__(self, i, o):
        super().__init__(i, o)
        self.register_buffer('u', torch.randn(1, o))

    def forward(self, x):
        w = self.weight
        with torch.no_grad():
            u = self.u
            for _ in range(3):
                v = F.normalize(u @ w, dim=1)
                u = F.normalize(v @ w.t(), dim=1)
            self.u.copy_(u)
        sigma = (u @ w @ v.t()).squeeze()
        return F.linear(x, bjorck(w / sigma), self.bias)


def net(kind, width):
    lip = kind.endswith('_lip1')
    act = kind.replace('_lip1', '')
    layers = []
    for i, (a, b) in enumerate([(784, width), (width, width), (width, 10)]):
        layers.append(SpectralLinear(a, b) if lip else nn.Linear(a, b))
        if i == 2:
            break
        layers.append(nn.ReLU() if act == 'relu' else GroupSort2() if act == 'groupsort'
                      else LinearSpline(b, max_slope=1.0 if lip else None))
    return nn.Sequential(*layers)


def main():
    torch.manual_seed(0)
    xs = torch.randn(N, 784)
    ys = torch.randint(0, 10, (N,))
    kinds = ['relu', 'spline', 'relu_lip1', 'groupsort_lip1', 'spline_lip1']
    cases = [(k, w) for w in (256, 512) for k in kinds]
    models = {c: net(*c) for c in cases}
    optims = {c: torch.optim.Adam(m.parameters(), 1e-3) for c, m in models.items()}

    def epoch(c):
        m, opt = models[c], optims[c]
        start = time.perf_counter()
        for b in range(0, N, BATCH):
            opt.zero_grad()
            loss = F.cross_entropy(m(xs[b:b + BATCH]), ys[b:b + BATCH])
            loss.backward()
            opt.step()
        return N / (time.perf_counter() - start)

    for c in cases:
        epoch(c)
    samples = {c: [] for c in cases}
    for _ in range(ROUNDS):
        for c in cases:
            samples[c].append(epoch(c))
    med = {c: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
           for c, v in samples.items()}
    rows = [{'net': k, 'width': w, 'samplesPerSecond': med[(k, w)], 'overRelu': med[(k, w)] / med[('relu', w)]}
            for (k, w) in cases]
    blas = 'OpenBLAS (pthread build, 1 thread)' if os.path.realpath(
        '/usr/lib/x86_64-linux-gnu/libblas.so.3').find('openblas') >= 0 else 'reference BLAS'
    print(json.dumps({'torch': torch.__version__, 'blas': blas, 'threads': torch.get_num_threads(), 'rows': rows}))


main()
