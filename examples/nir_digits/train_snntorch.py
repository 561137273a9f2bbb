"""Train a small spiking network on scikit-learn's 8x8 digits with snnTorch and export it to NIR.

Runs in its own virtual environment, never as a dependency of eventsim:

    python -m venv /tmp/snnvenv
    /tmp/snnvenv/bin/pip install torch snntorch nirtorch scikit-learn nir
    /tmp/snnvenv/bin/python examples/nir_digits/train_snntorch.py

Writes beside this script: digits_snn.nir (the trained network, exported by snnTorch),
test.csv (the held-out digits, pixel values / 16 and the class last: eventsim's
[trials] dataset) and snntorch_result.json (snnTorch's accuracy on them, its
predictions and spike counts, and one digit's spike steps for the figure).

Encoding (the same as eventsim's latency code with latency_max = 16 ms and one step =
1 ms): pixel value v (0..16) spikes once, at step 16 - v, if v > 0. Network:
64 inputs -> Linear -> Leaky (64) -> Linear -> Leaky (10), beta 0.9, threshold 1,
reset to zero (NIR's LIF resets to v_reset; snnTorch's default, subtraction, has no
NIR form). Decoding: the output neuron with most spikes over the T steps; a tie or
silence is wrong, as in eventsim's decoding.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import snntorch as snn
from snntorch import surrogate
from snntorch.export_nir import export_to_nir
import nir
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
T = 24                      # steps per sample (1 ms each in eventsim)
LATENCY_MAX = 16            # step of a pixel of value 0 (never reached: zero pixels are silent)
HIDDEN, BETA = 64, 0.9


def encode(pixels):
    """(T, n, 64) spikes: pixel value v spikes at step 16 - v when v > 0."""
    v = np.asarray(pixels, dtype=np.int64)
    out = np.zeros((T, v.shape[0], v.shape[1]), dtype=np.float32)
    n, c = np.nonzero(v > 0)
    out[LATENCY_MAX - v[n, c], n, c] = 1.0
    return torch.from_numpy(out)


def build():
    grad = surrogate.atan()

    def leaky(n, output=False):
        # per-neuron tensors: snnTorch's exporter gives each parameter the layer's shape
        return snn.Leaky(beta=torch.full((n,), BETA), threshold=torch.ones(n), spike_grad=grad, init_hidden=True,
                         reset_mechanism="zero", output=output)
    return torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), leaky(HIDDEN), torch.nn.Linear(HIDDEN, 10),
                               leaky(10, output=True))


def forward(net, spikes):
    """Spike counts of the output layer (n, 10) and every layer's spikes (T, n, ...)."""
    from snntorch import utils
    utils.reset(net)
    hidden, out = [], []
    for t in range(spikes.shape[0]):
        x = net[0](spikes[t])
        h = net[1](x)
        y, _ = net[3](net[2](h))
        hidden.append(h)
        out.append(y)
    return torch.stack(hidden), torch.stack(out)


def decode(counts):
    """Class with most output spikes; -1 on a tie or silence (counted wrong)."""
    c = counts.numpy()
    best = c.max(axis=1)
    unique = (c == best[:, None]).sum(axis=1) == 1
    return np.where((best > 0) & unique, c.argmax(axis=1), -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(digits.data.astype(np.int64), digits.target, test_size=0.25,
                                              random_state=args.seed, stratify=digits.target)
    s_tr, s_te = encode(x_tr), encode(x_te)
    t_tr = torch.from_numpy(y_tr)
    net = build()
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        order = rng.permutation(len(y_tr))
        for k in range(0, len(order), 64):
            idx = torch.from_numpy(order[k:k + 64])
            _, out = forward(net, s_tr[:, idx])
            loss = loss_fn(out.sum(0), t_tr[idx])      # spike counts as logits
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            _, out = forward(net, s_te)
            acc = float(np.mean(decode(out.sum(0)) == y_te))
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, held-out accuracy {acc:.4f}")
    with torch.no_grad():
        hidden, out = forward(net, s_te)
    pred = decode(out.sum(0))
    graph = export_to_nir(net, torch.zeros(1, 64), ignore_dims=[0])
    args.out.mkdir(parents=True, exist_ok=True)
    nir.write(args.out / "digits_snn.nir", graph)
    rows = np.column_stack([x_te / 16.0, y_te])
    np.savetxt(args.out / "test.csv", rows, delimiter=",", fmt=["%.4f"] * 64 + ["%d"],
               header="scikit-learn digits, held out (test_size 0.25, stratified, random_state 0): "
                      "64 pixel values / 16, then the class")
    sample = 0
    result = dict(
        accuracy=float(np.mean(pred == y_te)), n_test=int(len(y_te)), ties_or_silent=int(np.sum(pred == -1)),
        predictions=pred.tolist(), tags=y_te.tolist(), steps=T, latency_max_steps=LATENCY_MAX, beta=BETA,
        hidden=HIDDEN, epochs=args.epochs, seed=args.seed, exporter_dt_s=1e-4,
        output_nodes=[k for k, v in graph.nodes.items() if isinstance(v, nir.LIF)],
        mean_spikes_per_sample=dict(hidden=float(hidden.sum() / len(y_te)), output=float(out.sum() / len(y_te))),
        sample=dict(index=sample, tag=int(y_te[sample]),
                    input=[[int(t), int(i)] for t, i in zip(*np.nonzero(s_te[:, sample].numpy()))],
                    hidden=[[int(t), int(i)] for t, i in zip(*np.nonzero(hidden[:, sample].numpy()))],
                    output=[[int(t), int(i)] for t, i in zip(*np.nonzero(out[:, sample].numpy()))]),
        versions=dict(torch=torch.__version__, snntorch=snn.__version__, nir=nir.__version__))
    (args.out / "snntorch_result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"held-out accuracy (snnTorch, discrete time): {result['accuracy']:.4f} on {result['n_test']} digits")


if __name__ == "__main__":
    main()
