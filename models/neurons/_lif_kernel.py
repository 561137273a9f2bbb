"""LIF equations (delta and exponential current synapses), written once as plain Python.

``CPU`` holds the numba CPU compilations; the cuda backend compiles the same
functions with ``compile_functions(globals(), FUNCTIONS, "cuda")``.

State and parameters are numpy structured arrays (one record per neuron). The
kernels read a neuron's parameters as a record (``p.tau_m``; numba passes it as a
plain pointer, with no reference counting) and carry its state as a tuple
(``load``/``store``), so that it stays in registers through the event loop.

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

STATE_DTYPE = np.dtype([("v", "f8"), ("i_ex", "f8"), ("i_in", "f8")])
USER_PARAMS = ("tau_m", "c_m", "v_rest", "v_reset", "v_th", "t_ref", "i_e", "tau_syn_ex", "tau_syn_in")
PARAM_DTYPE = np.dtype([(name, "f8") for name in USER_PARAMS] + [
    ("syn_exp", "f8"),    # 1.0 for exp synapses, 0.0 for delta
    ("a", "f8"),          # 1/tau_m
    ("b_ex", "f8"),       # 1/tau_syn_ex
    ("b_in", "f8"),       # 1/tau_syn_in
    ("tstar_ex", "f8"),   # argmax of P_ex
    ("tstar_in", "f8"),   # argmax of P_in
    ("R", "f8"),          # tau_m / c_m
    ("v_inf0", "f8"),     # v_rest + i_e R
    ("inv_c", "f8"),      # 1 / c_m
])
RECORDABLE = ("v", "i_ex", "i_in")


def _tstar(a, b):
    d = b - a
    out = np.empty_like(a)
    eq = np.abs(d) <= 1e-12 * np.maximum(a, b)
    out[eq] = 1.0 / a[eq]
    ne = ~eq
    out[ne] = np.log(b[ne] / a[ne]) / d[ne]
    return out


def pack_params(pop):
    """Parameter records of a population (user parameters + derived fields)."""
    p = np.zeros(pop.size, dtype=PARAM_DTYPE)
    for name in USER_PARAMS:
        p[name] = pop.params[name]
    p["syn_exp"] = 1.0 if pop.options.get("synapse", "delta") == "exp" else 0.0
    p["a"] = 1.0 / p["tau_m"]
    p["b_ex"] = 1.0 / p["tau_syn_ex"]
    p["b_in"] = 1.0 / p["tau_syn_in"]
    p["tstar_ex"] = _tstar(p["a"], p["b_ex"])
    p["tstar_in"] = _tstar(p["a"], p["b_in"])
    p["R"] = p["tau_m"] / p["c_m"]
    p["v_inf0"] = p["v_rest"] + p["i_e"] * p["R"]
    p["inv_c"] = 1.0 / p["c_m"]
    return p


def init_state(pop):
    st = np.zeros(pop.size, dtype=STATE_DTYPE)
    v0 = pop.init.get("v")
    st["v"] = pop.params["v_rest"] if v0 is None else v0
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
    return p.v_inf0 + i_ext * p.R


def load(st):
    """A neuron's state record -> the state tuple (v, i_ex, i_in) the kernels work on
    (tuples live in registers; the record is written back once per window)."""
    return (st.v, st.i_ex, st.i_in)


def store(st, s):
    st.v = s[0]
    st.i_ex = s[1]
    st.i_in = s[2]


def evolve(s, p, dt, i_ext):
    """Free evolution over dt (not refractory) with constant external current i_ext (pA)."""
    v, i_ex, i_in = s
    vi = v_inf(p, i_ext)
    v = vi + (v - vi) * math.exp(-p.a * dt)
    if i_ex != 0.0:
        v += i_ex * p.inv_c * psp(p.a, p.b_ex, dt)
        i_ex *= math.exp(-p.b_ex * dt)
    if i_in != 0.0:
        v += i_in * p.inv_c * psp(p.a, p.b_in, dt)
        i_in *= math.exp(-p.b_in * dt)
    return (v, i_ex, i_in)


def evolve_refractory(s, p, dt):
    """Evolution over dt while v is clamped at v_reset: synaptic currents decay."""
    v, i_ex, i_in = s
    if i_ex != 0.0:
        i_ex *= math.exp(-p.b_ex * dt)
    if i_in != 0.0:
        i_in *= math.exp(-p.b_in * dt)
    return (v, i_ex, i_in)


def receive(s, p, w, refractory):
    """An input of weight w arrives (delta: mV jump, dropped while refractory; exp: pA)."""
    v, i_ex, i_in = s
    if p.syn_exp == 0.0:
        if not refractory:
            v += w
    elif w >= 0.0:
        i_ex += w
    else:
        i_in += w
    return (v, i_ex, i_in)


def gap_now(s, p):
    """v - threshold now (>= 0 means spike)."""
    return s[0] - p.v_th


def gap(s, p, i_ext, t):
    """v(t) - v_th after free evolution over t from state s."""
    v0, i_ex, i_in = s
    vi = v_inf(p, i_ext)
    v = vi + (v0 - vi) * math.exp(-p.a * t)
    if i_ex != 0.0:
        v += i_ex * p.inv_c * psp(p.a, p.b_ex, t)
    if i_in != 0.0:
        v += i_in * p.inv_c * psp(p.a, p.b_in, t)
    return v - p.v_th


def gap_bound(s, p, i_ext, t0, t1):
    """An upper bound of gap(t) over [t0, t1] (t1 may be inf), exact term by term.

    The common cases cost no exp: at t0 = 0 the leak term's bound is v itself, and a
    leak term rising towards v_inf < v_th is bounded by v_inf.
    """
    v, i_ex, i_in = s
    vi = v_inf(p, i_ext)
    c = v - vi
    no_current = (i_ex == 0.0) & (i_in == 0.0)
    if c > 0.0:
        ub = v if t0 == 0.0 else vi + c * math.exp(-p.a * t0)
        if no_current:
            return ub - p.v_th
    elif no_current & (vi < p.v_th):
        return vi - p.v_th
    else:
        ub = vi + c * math.exp(-p.a * t1)
    if i_ex != 0.0:
        ub += psp_bound(i_ex * p.inv_c, p.a, p.b_ex, p.tstar_ex, t0, t1)
    if i_in != 0.0:
        ub += psp_bound(i_in * p.inv_c, p.a, p.b_in, p.tstar_in, t0, t1)
    return ub - p.v_th


def spike_reset(s, p):
    return (p.v_reset, s[1], s[2])


def refractory_period(p):
    return p.t_ref


FUNCTIONS = ("phi", "psp", "psp_bound", "v_inf", "load", "store", "evolve", "evolve_refractory",
             "receive", "gap_now", "gap", "gap_bound", "spike_reset", "refractory_period")
CPU = compile_functions(globals(), FUNCTIONS, "cpu")
