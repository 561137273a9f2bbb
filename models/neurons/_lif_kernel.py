"""LIF equations (delta and exponential current synapses), written once as plain Python.

``CPU`` holds the numba CPU compilations; the cuda backend compiles the same
functions with ``compile_functions(globals(), FUNCTIONS, "cuda")``.

State and parameters are numpy structured arrays (one record per neuron): the
kernels see a neuron's row as a record (``st.v``, ``p.tau_m``), which numba
passes as a plain pointer, with no reference counting in the event loop.

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


def evolve(st, p, dt, i_ext):
    """Free evolution over dt (not refractory) with constant external current i_ext (pA)."""
    vi = v_inf(p, i_ext)
    v = vi + (st.v - vi) * math.exp(-p.a * dt)
    if st.i_ex != 0.0:
        v += st.i_ex * p.inv_c * psp(p.a, p.b_ex, dt)
        st.i_ex *= math.exp(-p.b_ex * dt)
    if st.i_in != 0.0:
        v += st.i_in * p.inv_c * psp(p.a, p.b_in, dt)
        st.i_in *= math.exp(-p.b_in * dt)
    st.v = v


def evolve_refractory(st, p, dt):
    """Evolution over dt while v is clamped at v_reset: synaptic currents decay."""
    if st.i_ex != 0.0:
        st.i_ex *= math.exp(-p.b_ex * dt)
    if st.i_in != 0.0:
        st.i_in *= math.exp(-p.b_in * dt)


def receive(st, p, w, refractory):
    """An input of weight w arrives (delta: mV jump, dropped while refractory; exp: pA)."""
    if p.syn_exp == 0.0:
        if not refractory:
            st.v += w
    elif w >= 0.0:
        st.i_ex += w
    else:
        st.i_in += w


def gap_now(st, p):
    """v - threshold now (>= 0 means spike)."""
    return st.v - p.v_th


def gap(st, p, i_ext, t):
    """v(t) - v_th after free evolution over t from the current state."""
    vi = v_inf(p, i_ext)
    v = vi + (st.v - vi) * math.exp(-p.a * t)
    if st.i_ex != 0.0:
        v += st.i_ex * p.inv_c * psp(p.a, p.b_ex, t)
    if st.i_in != 0.0:
        v += st.i_in * p.inv_c * psp(p.a, p.b_in, t)
    return v - p.v_th


def gap_bound(st, p, i_ext, t0, t1):
    """An upper bound of gap(t) over [t0, t1] (t1 may be inf), exact term by term.

    The common cases cost no exp: at t0 = 0 the leak term's bound is v itself, and a
    leak term rising towards v_inf < v_th is bounded by v_inf.
    """
    vi = v_inf(p, i_ext)
    c = st.v - vi
    no_current = (st.i_ex == 0.0) & (st.i_in == 0.0)
    if c > 0.0:
        ub = st.v if t0 == 0.0 else vi + c * math.exp(-p.a * t0)
        if no_current:
            return ub - p.v_th
    elif no_current & (vi < p.v_th):
        return vi - p.v_th
    else:
        ub = vi + c * math.exp(-p.a * t1)
    if st.i_ex != 0.0:
        ub += psp_bound(st.i_ex * p.inv_c, p.a, p.b_ex, p.tstar_ex, t0, t1)
    if st.i_in != 0.0:
        ub += psp_bound(st.i_in * p.inv_c, p.a, p.b_in, p.tstar_in, t0, t1)
    return ub - p.v_th


def spike_reset(st, p):
    st.v = p.v_reset


def refractory_period(p):
    return p.t_ref


FUNCTIONS = ("phi", "psp", "psp_bound", "v_inf", "evolve", "evolve_refractory", "receive",
             "gap_now", "gap", "gap_bound", "spike_reset", "refractory_period")
CPU = compile_functions(globals(), FUNCTIONS, "cpu")
