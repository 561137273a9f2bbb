"""NIR's linear nodes as sparse matrices on flattened signals.

A signal of shape (C, H, W) is a vector in C order (channel, row, column), as in NIR
and PyTorch. Each node gives ``Step(matrix, bias, shape, delay)``: y = matrix x + bias
(bias None when there is none), ``shape`` the output's, ``delay`` (per output element,
NIR time units) for Delay nodes. Convolutions and pooling are expanded index by index,
with PyTorch's conventions (zero padding, "same" padding split with the smaller half
first, average pooling dividing by the kernel's area, padding included).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from .load import describe

LINEAR_TYPES = ("Affine", "Linear", "Scale", "Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Delay")


@dataclass
class Step:
    matrix: sp.csr_matrix
    bias: np.ndarray | None
    shape: tuple
    delay: np.ndarray | None = None


def step(name, node, in_shape, label) -> Step:
    """The node applied to a signal of shape ``in_shape``."""
    kind = type(node).__name__
    n_in = int(np.prod(in_shape))
    where = f"{label}: {describe(name, node)}"
    if kind in ("Affine", "Linear"):
        w = _finite(node.weight, "weight", where)
        if w.ndim != 2:
            raise InputError(f"{where}: weight must be a matrix (outputs x inputs), got shape {w.shape}")
        if w.shape[1] != n_in:
            raise InputError(f"{where}: weight takes {w.shape[1]} inputs, gets {n_in} (shape {tuple(in_shape)})")
        bias = None
        if kind == "Affine":
            bias = _finite(node.bias, "bias", where).reshape(-1)
            if bias.size != w.shape[0]:
                raise InputError(f"{where}: bias has {bias.size} values for {w.shape[0]} outputs")
        return Step(sp.csr_matrix(w), bias, (w.shape[0],))
    if kind == "Scale":
        s = _finite(node.scale, "scale", where).reshape(-1)
        if s.size != n_in:
            raise InputError(f"{where}: scale has {s.size} values for {n_in} inputs")
        return Step(sp.diags(s, format="csr"), None, tuple(in_shape))
    if kind == "Delay":
        d = _finite(node.delay, "delay", where).reshape(-1)
        if d.size != n_in:
            raise InputError(f"{where}: delay has {d.size} values for {n_in} inputs")
        if (d < 0).any():
            raise InputError(f"{where}: delays must be >= 0, got {d.min():g}")
        return Step(sp.identity(n_in, format="csr"), None, tuple(in_shape), d)
    if kind == "Flatten":
        return Step(sp.identity(n_in, format="csr"), None, _flattened(node, in_shape, where))
    if kind in ("Conv1d", "Conv2d"):
        return _conv(node, in_shape, 1 if kind == "Conv1d" else 2, where)
    if kind in ("SumPool2d", "AvgPool2d"):
        return _pool(node, in_shape, kind == "AvgPool2d", where)
    raise InputError(f"{where}: not a linear node")


def _finite(x, what, where):
    a = np.asarray(x, dtype=np.float64)
    if not np.isfinite(a).all():
        raise InputError(f"{where}: {what} must be finite")
    return a


def _flattened(node, in_shape, where):
    shape = list(in_shape)
    nd = len(shape)
    start, end = int(node.start_dim), int(node.end_dim)
    start, end = start + nd if start < 0 else start, end + nd if end < 0 else end
    if not 0 <= start <= end < nd:
        raise InputError(f"{where}: start_dim {node.start_dim} and end_dim {node.end_dim} do not fit an input "
                         f"of shape {tuple(in_shape)}")
    return tuple(shape[:start] + [int(np.prod(shape[start:end + 1]))] + shape[end + 1:])


def _pair(value, nd, what, where):
    """An int or a sequence of nd ints (NIR stores either)."""
    a = np.asarray(value).reshape(-1)
    if a.size == 1:
        a = np.repeat(a, nd)
    if a.size != nd or not np.all(a == np.round(a.astype(np.float64))):
        raise InputError(f"{where}: {what} must be {nd} whole numbers, got {value!r}")
    return tuple(int(x) for x in a)


def _padding(value, kernel, dilation, stride, nd, where):
    """Padding before each spatial axis (NIR/PyTorch pad both sides alike; "same" splits
    the total dilation (k - 1) with the smaller half first, and needs stride 1)."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.ndarray) and value.dtype.kind in "SUO" and value.size == 1:
        value = value.reshape(-1)[0]
        value = value.decode() if isinstance(value, bytes) else str(value)
    if isinstance(value, str):
        if value == "valid":
            return (0,) * nd, (0,) * nd
        if value == "same":
            if any(s != 1 for s in stride):
                raise InputError(f"{where}: padding 'same' needs stride 1, got {stride}")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
        raise InputError(f"{where}: padding must be a number, 'same' or 'valid', got {value!r}")
    pad = _pair(value, nd, "padding", where)
    if any(x < 0 for x in pad):
        raise InputError(f"{where}: padding must be >= 0, got {pad}")
    return pad, pad


def _conv(node, in_shape, nd, where):
    w = _finite(node.weight, "weight", where)
    if w.ndim != nd + 2:
        raise InputError(f"{where}: weight must have {nd + 2} dimensions (C_out, C_in/groups, kernel), "
                         f"got shape {w.shape}")
    if len(in_shape) != nd + 1:
        raise InputError(f"{where}: takes an input of shape (C_in, {'L' if nd == 1 else 'H, W'}), "
                         f"gets shape {tuple(in_shape)}")
    c_out, c_in_g, kernel = w.shape[0], w.shape[1], w.shape[2:]
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    c_in, size = int(in_shape[0]), tuple(int(x) for x in in_shape[1:])
    if groups < 1 or c_in != c_in_g * groups or c_out % groups:
        raise InputError(f"{where}: {c_in} input channels, {c_out} output channels and weight shape {w.shape} "
                         f"do not fit groups = {groups}")
    stride = _pair(node.stride, nd, "stride", where)
    dilation = _pair(node.dilation, nd, "dilation", where)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise InputError(f"{where}: stride and dilation must be >= 1, got {stride} and {dilation}")
    pad_lo, pad_hi = _padding(node.padding, kernel, dilation, stride, nd, where)
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, lo, hi, d, k, s in zip(size, pad_lo, pad_hi, dilation, kernel, stride))
    if any(o < 1 for o in out):
        raise InputError(f"{where}: the kernel does not fit an input of shape {tuple(in_shape)}")
    # one entry per (output channel, output position, input channel of the group, kernel offset)
    co, ci, *rest = np.meshgrid(np.arange(c_out), np.arange(c_in_g), *[np.arange(o) for o in out],
                                *[np.arange(k) for k in kernel], indexing="ij")
    pos, off = rest[:nd], rest[nd:]
    src = [p * s - lo + k * d for p, s, lo, k, d in zip(pos, stride, pad_lo, off, dilation)]
    ok = np.ones(co.shape, dtype=bool)
    for x, n in zip(src, size):
        ok &= (x >= 0) & (x < n)
    chan = (co // (c_out // groups)) * c_in_g + ci
    rows = np.ravel_multi_index([co[ok]] + [p[ok] for p in pos], (c_out,) + out)
    cols = np.ravel_multi_index([chan[ok]] + [x[ok] for x in src], (c_in,) + size)
    vals = w[(co[ok], ci[ok]) + tuple(k[ok] for k in off)]
    m = sp.csr_matrix((vals, (rows, cols)), shape=(c_out * int(np.prod(out)), c_in * int(np.prod(size))))
    bias = _finite(node.bias, "bias", where).reshape(-1)
    if bias.size not in (0, c_out):
        raise InputError(f"{where}: bias has {bias.size} values for {c_out} output channels")
    full_bias = np.repeat(bias, int(np.prod(out))) if bias.size else None
    return Step(m, full_bias if full_bias is not None and full_bias.any() else None, (c_out,) + out)


def _pool(node, in_shape, average, where):
    if len(in_shape) != 3:
        raise InputError(f"{where}: takes an input of shape (C, H, W), gets shape {tuple(in_shape)}")
    kernel = _pair(node.kernel_size, 2, "kernel_size", where)
    stride = _pair(node.stride, 2, "stride", where)
    pad = _pair(node.padding, 2, "padding", where)
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(p < 0 for p in pad):
        raise InputError(f"{where}: kernel_size and stride must be >= 1 and padding >= 0")
    c, size = int(in_shape[0]), tuple(int(x) for x in in_shape[1:])
    out = tuple((n + 2 * p - k) // s + 1 for n, p, k, s in zip(size, pad, kernel, stride))
    if any(o < 1 for o in out):
        raise InputError(f"{where}: the kernel does not fit an input of shape {tuple(in_shape)}")
    ch, oy, ox, ky, kx = np.meshgrid(np.arange(c), np.arange(out[0]), np.arange(out[1]),
                                     np.arange(kernel[0]), np.arange(kernel[1]), indexing="ij")
    iy, ix = oy * stride[0] - pad[0] + ky, ox * stride[1] - pad[1] + kx
    ok = (iy >= 0) & (iy < size[0]) & (ix >= 0) & (ix < size[1])
    rows = np.ravel_multi_index((ch[ok], oy[ok], ox[ok]), (c,) + out)
    cols = np.ravel_multi_index((ch[ok], iy[ok], ix[ok]), (c,) + size)
    value = 1.0 / (kernel[0] * kernel[1]) if average else 1.0
    m = sp.csr_matrix((np.full(rows.size, value), (rows, cols)), shape=(c * out[0] * out[1], c * size[0] * size[1]))
    return Step(m, None, (c,) + out)
