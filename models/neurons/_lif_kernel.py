"""LIF equations (delta and exponential current synapses), written once as plain Python.

``CPU`` holds the numba CPU compilations; the cuda backend compiles the same
functions with ``compile_functions(globals(), FUNCTIONS, "cuda")``.

State columns: v (mV), i_ex (pA), i_in (pA).
Param columns: see ``PARAM_COLUMNS``; derived columns follow the user parameters.

Between events, with a = 1/tau_m, b = 1/tau_syn and constant external current I:
    v(t) = v_inf + (v0 - v_inf) e^{-a t} + (I_ex0/c_m) P_ex(t) + (I_in0/c_m) P_in(t)
    v_inf = v_rest + I tau_m / c_m
    P(t) = (e^{-a t} - e^{-b t}) / (b - a) = e^{-a t} t phi((b - a) t),  phi(x) = (1 - e^{-x})/x
The phi form is exact in the limit tau_syn = tau_m (P(t) = t e^{-a t}) and stable near it.
P >= 0 is unimodal with its maximum at t* = ln(b/a)/(b - a) (t* = tau_m when b = a),
which gives the exact per-term bounds that ``gap_bound`` uses for the crossing search.
"""
import math

import numpy as np

from eventsim.engine.dual import compile_functions

PARAM_COLUMNS = ("tau_m", "c_m", "v_rest", "v_reset", "v_th", "t_ref", "i_e",
                 "tau_syn_ex", "tau_syn_in")
# derived: 9 syn_kind (0 delta, 1 exp), 10 a, 11 b_ex, 12 b_in, 13 tstar_ex, 14 tstar_in
NP = 15
NS = 3
STATE_COLUMNS = ("v", "i_ex", "i_in")
RECORDABLE = {"v": 0, "i_ex": 1, "i_in": 2}


def _tstar(a, b):
    d = b - a
    out = np.full_like(a, 0.0)
    eq = np.abs(d) <= 1e-12 * np.maximum(a, b)
    out[eq] = 1.0 / a[eq]
    ne = ~eq
    out[ne] = np.log(b[ne] / a[ne]) / d[ne]
    return out


def pack_params(pop):
    """(size, NP) float64 parameter table of a population (numeric params + derived columns)."""
    n = pop.size
    p = np.empty((n, NP))
    for j, name in enumerate(PARAM_COLUMNS):
        p[:, j] = pop.params[name]
    p[:, 9] = 1.0 if pop.options.get("synapse", "delta") == "exp" else 0.0
    p[:, 10] = 1.0 / p[:, 0]
    p[:, 11] = 1.0 / p[:, 7]
    p[:, 12] = 1.0 / p[:, 8]
    p[:, 13] = _tstar(p[:, 10], p[:, 11])
    p[:, 14] = _tstar(p[:, 10], p[:, 12])
    return p


def init_state(pop):
    st = np.zeros((pop.size, NS))
    v0 = pop.init.get("v")
    st[:, 0] = pop.params["v_rest"] if v0 is None else v0
    return st


# ---- equations (plain Python; compiled per target) ----

def phi(x):
    if x == 0.0:
        return 1.0
    return -math.expm1(-x) / x


def psp(a, b, t):
    """P(t) = (e^{-a t} - e^{-b t})/(b - a), P(inf) = 0."""
    if t == math.inf:
        return 0.0
    return math.exp(-a * t) * t * phi((b - a) * t)


def psp_bound(c, a, b, tstar, t0, t1):
    """Upper bound of c * P(t) over [t0, t1] (exact: P is unimodal with its peak at tstar)."""
    if c > 0.0:
        tm = min(max(tstar, t0), t1)
        return c * psp(a, b, tm)
    return c * min(psp(a, b, t0), psp(a, b, t1))


def v_inf(p, i_ext):
    return p[2] + (p[6] + i_ext) * p[0] / p[1]


def evolve(st, p, dt, i_ext):
    """Free evolution over dt (not refractory) with constant external current i_ext (pA)."""
    vi = v_inf(p, i_ext)
    ea = math.exp(-p[10] * dt)
    v = vi + (st[0] - vi) * ea
    if st[1] != 0.0:
        v += st[1] / p[1] * psp(p[10], p[11], dt)
        st[1] *= math.exp(-p[11] * dt)
    if st[2] != 0.0:
        v += st[2] / p[1] * psp(p[10], p[12], dt)
        st[2] *= math.exp(-p[12] * dt)
    st[0] = v


def evolve_refractory(st, p, dt):
    """Evolution over dt while v is clamped at v_reset: synaptic currents decay."""
    if st[1] != 0.0:
        st[1] *= math.exp(-p[11] * dt)
    if st[2] != 0.0:
        st[2] *= math.exp(-p[12] * dt)


def receive(st, p, w, refractory):
    """An input of weight w arrives (delta: mV jump, dropped while refractory; exp: pA)."""
    if p[9] == 0.0:
        if not refractory:
            st[0] += w
    elif w >= 0.0:
        st[1] += w
    else:
        st[2] += w


def gap_now(st, p):
    """v - threshold now (>= 0 means spike)."""
    return st[0] - p[4]


def gap(st, p, i_ext, t):
    """v(t) - v_th after free evolution over t from the current state."""
    vi = v_inf(p, i_ext)
    v = vi + (st[0] - vi) * math.exp(-p[10] * t)
    if st[1] != 0.0:
        v += st[1] / p[1] * psp(p[10], p[11], t)
    if st[2] != 0.0:
        v += st[2] / p[1] * psp(p[10], p[12], t)
    return v - p[4]


def gap_bound(st, p, i_ext, t0, t1):
    """An upper bound of gap(t) over [t0, t1] (t1 may be inf), exact term by term."""
    vi = v_inf(p, i_ext)
    c = st[0] - vi
    if c > 0.0:
        ub = vi + c * math.exp(-p[10] * t0)
    else:
        ub = vi + c * math.exp(-p[10] * t1)
    if st[1] != 0.0:
        ub += psp_bound(st[1] / p[1], p[10], p[11], p[13], t0, t1)
    if st[2] != 0.0:
        ub += psp_bound(st[2] / p[1], p[10], p[12], p[14], t0, t1)
    return ub - p[4]


def spike_reset(st, p):
    st[0] = p[3]


def refractory_period(p):
    return p[5]


FUNCTIONS = ("phi", "psp", "psp_bound", "v_inf", "evolve", "evolve_refractory", "receive",
             "gap_now", "gap", "gap_bound", "spike_reset", "refractory_period")
CPU = compile_functions(globals(), FUNCTIONS, "cpu")
