"""A slow, obviously correct reference: one LIF (or ALIF) neuron, exact formulas, bracketed root search.

Written independently of the engine (plain Python floats, textbook formulas with the
separate tau_syn == tau_m case, scipy's brentq): it is what the engine is tested against.

Inputs are arrivals (t, w): delta synapses add w mV to v (dropped while refractory);
exp synapses add w pA to I_ex (w > 0) or I_in (w < 0). Current steps (t, amplitude)
set the stimulus current from t on. All arrivals at one instant are summed before
the threshold test.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy.optimize import brentq

LIF_DEFAULTS = dict(tau_m=10.0, c_m=250.0, v_rest=-70.0, v_reset=-70.0, v_th=-55.0, t_ref=2.0,
                    i_e=0.0, tau_syn_ex=2.0, tau_syn_in=2.0)


def _syn_term(I0, tau_s, tau_m, c_m, s):
    """Membrane response at time s to a current I0 e^{-t/tau_s} starting at 0 (v starting at 0)."""
    if I0 == 0.0:
        return 0.0
    if tau_s == tau_m:
        return I0 / c_m * s * math.exp(-s / tau_m)
    return I0 / c_m * (math.exp(-s / tau_m) - math.exp(-s / tau_s)) / (1.0 / tau_s - 1.0 / tau_m)


class RefLIF:
    def __init__(self, synapse="delta", v0=None, **params):
        self.p = dict(LIF_DEFAULTS, **params)
        self.synapse = synapse
        self.v = self.p["v_rest"] if v0 is None else v0
        self.i_ex = 0.0
        self.i_in = 0.0
        self.i_stim = 0.0
        self.t = 0.0
        self.ref_end = -math.inf
        self.spikes = []

    # free evolution (not refractory) over s from the current state
    def v_at(self, s):
        p = self.p
        I = p["i_e"] + self.i_stim
        v_inf = p["v_rest"] + I * p["tau_m"] / p["c_m"]
        return (v_inf + (self.v - v_inf) * math.exp(-s / p["tau_m"])
                + _syn_term(self.i_ex, p["tau_syn_ex"], p["tau_m"], p["c_m"], s)
                + _syn_term(self.i_in, p["tau_syn_in"], p["tau_m"], p["c_m"], s))

    def gap_at(self, s):
        """v - threshold after free evolution over s (the function whose first zero is sought)."""
        return self.v_at(s) - self.p["v_th"]

    def _move(self, s, clamp):
        p = self.p
        if not clamp:
            self.v = self.v_at(s)
        self.i_ex *= math.exp(-s / p["tau_syn_ex"])
        self.i_in *= math.exp(-s / p["tau_syn_in"])
        self.t += s

    def _first_crossing(self, H, n_grid=4000):
        """First s in (0, H] with v_at(s) >= v_th: a fine grid brackets sign changes of
        v - v_th and of its slope (so that brief excursions between grid points are
        caught at their peak), then brentq refines."""
        f = self.gap_at
        grid = np.linspace(0.0, H, n_grid + 1)
        vals = np.array([f(s) for s in grid])
        h = 1e-7 * max(H, 1e-3)
        for j in range(1, grid.size):
            a, b = grid[j - 1], grid[j]
            if vals[j] >= 0.0:
                if vals[j - 1] >= 0.0:
                    return a
                return brentq(f, a, b, xtol=1e-14, rtol=1e-15, maxiter=500)
            # a peak inside (a, b)? slope changes sign from + to -
            da = f(min(a + h, b)) - vals[j - 1]
            db = vals[j] - f(max(b - h, a))
            if da > 0.0 and db < 0.0:
                g = lambda s: f(s + h) - f(s - h)  # noqa: E731
                lo, hi = max(a, h), min(b, H - h)
                if lo < hi and g(lo) > 0.0 > g(hi):
                    m = brentq(g, lo, hi, xtol=1e-14)
                    if f(m) >= 0.0:
                        return brentq(f, a, m, xtol=1e-14, rtol=1e-15, maxiter=500)
        return None

    def advance(self, t_to):
        """Evolve to t_to, recording every spike on the way."""
        while self.t < t_to:
            if self.t < self.ref_end:
                self._move(min(self.ref_end, t_to) - self.t, clamp=True)
                continue
            s = self._first_crossing(t_to - self.t)
            if s is None:
                self._move(t_to - self.t, clamp=False)
                return
            self._move(s, clamp=False)
            self._fire(self.t)

    def _fire(self, t):
        self.spikes.append(t)
        self.v = self.p["v_reset"]
        self.ref_end = t + self.p["t_ref"]

    def receive_all(self, t, weights, current=None):
        refractory = t < self.ref_end
        for w in weights:
            if self.synapse == "delta":
                if not refractory:
                    self.v += w
            elif w >= 0:
                self.i_ex += w
            else:
                self.i_in += w
        if current is not None:
            self.i_stim = current
        if not refractory and self.v >= self.p["v_th"]:
            self._fire(t)


def _alpha_term(J0, tau_s, tau_m, c_m, s):
    """Membrane response at time s to a current J0 t e^{-t/tau_s} starting at 0 (v starting at 0):
    J0/c_m int_0^s e^{-(s-u)/tau_m} u e^{-u/tau_s} du = J0/c_m (e^{-s/tau_m} - e^{-s/tau_s}(1 + k s))/k^2,
    k = 1/tau_s - 1/tau_m (s^2/2 e^{-s/tau_m} when tau_s = tau_m)."""
    if J0 == 0.0:
        return 0.0
    if tau_s == tau_m:
        return J0 / c_m * s * s / 2.0 * math.exp(-s / tau_m)
    k = 1.0 / tau_s - 1.0 / tau_m
    return J0 / c_m * (math.exp(-s / tau_m) - math.exp(-s / tau_s) * (1.0 + k * s)) / (k * k)


class RefALIF(RefLIF):
    """LIF with alpha synapses and an adaptive threshold v_th + a, da/dt = -a/tau_a, a += delta_th
    per spike (delta_th = 0: plain LIF). Alpha input w: current w (t/tau_s) e^{1 - t/tau_s},
    kept as I(t) = (I0 + J0 t) e^{-t/tau_s} with J0 += w e/tau_s."""

    def __init__(self, synapse="delta", v0=None, tau_a=100.0, delta_th=0.0, a0=0.0, **params):
        super().__init__(synapse=synapse, v0=v0, **params)
        self.p.update(tau_a=tau_a, delta_th=delta_th)
        self.a = a0
        self.j_ex = 0.0
        self.j_in = 0.0

    def v_at(self, s):
        p = self.p
        return (super().v_at(s) + _alpha_term(self.j_ex, p["tau_syn_ex"], p["tau_m"], p["c_m"], s)
                + _alpha_term(self.j_in, p["tau_syn_in"], p["tau_m"], p["c_m"], s))

    def gap_at(self, s):
        return self.v_at(s) - self.p["v_th"] - self.a * math.exp(-s / self.p["tau_a"])

    def _move(self, s, clamp):
        p = self.p
        i_ex = (self.i_ex + self.j_ex * s) * math.exp(-s / p["tau_syn_ex"])
        i_in = (self.i_in + self.j_in * s) * math.exp(-s / p["tau_syn_in"])
        if not clamp:
            self.v = self.v_at(s)
        self.i_ex, self.i_in = i_ex, i_in
        self.j_ex *= math.exp(-s / p["tau_syn_ex"])
        self.j_in *= math.exp(-s / p["tau_syn_in"])
        self.a *= math.exp(-s / p["tau_a"])
        self.t += s

    def _fire(self, t):
        super()._fire(t)
        self.a += self.p["delta_th"]

    def receive_all(self, t, weights, current=None):
        p = self.p
        refractory = t < self.ref_end
        for w in weights:
            if self.synapse == "alpha":
                if w >= 0:
                    self.j_ex += w * math.e / p["tau_syn_ex"]
                else:
                    self.j_in += w * math.e / p["tau_syn_in"]
            elif self.synapse == "delta":
                if not refractory:
                    self.v += w
            elif w >= 0:
                self.i_ex += w
            else:
                self.i_in += w
        if current is not None:
            self.i_stim = current
        if not refractory and self.v >= p["v_th"] + self.a:
            self._fire(t)


def simulate(t_stop, arrivals=(), synapse="delta", current_steps=(), v0=None, model="lif", **params):
    """Spike times of one neuron. arrivals: (t, w) pairs; current_steps: (t, amplitude) pairs.
    model "alif" (params tau_a, delta_th, a0) or synapse "alpha" use RefALIF."""
    if model == "alif" or synapse == "alpha":
        n = RefALIF(synapse=synapse, v0=v0, **params)
    else:
        n = RefLIF(synapse=synapse, v0=v0, **params)
    by_t = defaultdict(list)
    for t, w in arrivals:
        by_t[float(t)].append(float(w))
    cur = {float(t): float(a) for t, a in current_steps}
    times = sorted(set(by_t) | set(cur))
    if v0 is not None and n.v >= n.p["v_th"] + getattr(n, "a", 0.0):
        n._fire(0.0)
    for t in times:
        if t > t_stop:
            break
        n.advance(t)
        n.receive_all(t, by_t.get(t, []), cur.get(t))
    n.advance(t_stop)
    return np.array(n.spikes)


def stdp_eager(pre, post_seen, tau_plus, tau_minus, lam, alpha, mu_plus, mu_minus, w_max, w0, t_end):
    """The contract's rule = "stdp", event by event, with traces summed from scratch.

    pre: pre spike times; post_seen: post spike times + delay (as the synapse sees them).
    Events in time order; at equal times the post spike (potentiation, pairing with
    pre spikes strictly before) comes before the pre spike (depression, pairing with
    post spikes strictly before). Returns (weight after each pre spike, weight at t_end
    including every post spike seen before t_end)."""
    events = sorted([(t, 0) for t in post_seen if t < t_end] + [(t, 1) for t in pre])
    w = w0 / w_max
    out = []
    for t, kind in events:
        if kind == 0:
            kp = sum(math.exp(-(t - s) / tau_plus) for s in pre if s < t)
            w = min(1.0, w + lam * (1.0 - w) ** mu_plus * kp)
        else:
            km = sum(math.exp(-(t - s) / tau_minus) for s in post_seen if s < t)
            w = max(0.0, w - alpha * lam * w ** mu_minus * km)
            out.append(w * w_max)
    return np.array(out), w * w_max
