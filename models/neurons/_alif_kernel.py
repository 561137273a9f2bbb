"""ALIF equations: the LIF equations of ``_lif_kernel`` plus a spike-triggered threshold.

One source per equation: the membrane and synapse functions are LIF's own plain Python
functions (imported, compiled here against this model's records); this module adds
the adaptation a (mV) of the threshold v_th + a:

    da/dt = -a/tau_a,   a += delta_th at each spike,   a(t) = a0 e^{-t/tau_a}
    gap(t) = v(t) - v_th - a0 e^{-t/tau_a}

v - (v_th + a) is a sum of a few exponentials and may cross zero more than once; the
engine's search finds the first crossing because ``gap_bound`` stays a valid upper
bound on every interval: LIF's exact bound of v - v_th plus the exact maximum of
-a0 e^{-t/tau_a} on [t0, t1], which is at t1 for a0 >= 0 (at t0 for a0 < 0, possible
only with a negative initial value). The bound needs no relation between tau_a and
tau_m. a keeps decaying while the neuron is refractory.

The state tuple is LIF's (v, i_ex, i_in, di_ex, di_in) followed by a.
"""
import math

import numpy as np
from eventsim.engine.elementary import exp_neg, exp_poly, expm1_neg, expm1_poly  # noqa: F401 (compiled below)
from eventsim.models.neurons import _lif_kernel as _lif

# LIF's plain functions, under the names their bodies call them by (compiled below)
from eventsim.models.neurons._lif_kernel import (  # noqa: F401
    apsp,
    apsp_bound,
    chi,
    decay,
    free_lif,
    free_lif_leaked,
    phi,
    psi,
    psp,
    psp_bound,
    q_peak,
    v_inf,
)
from eventsim.models.neurons._lif_kernel import evolve as lif_evolve
from eventsim.models.neurons._lif_kernel import (
    evolve_refractory as lif_evolve_refractory,
)
from eventsim.models.neurons._lif_kernel import gap as lif_gap
from eventsim.models.neurons._lif_kernel import gap_bound as lif_gap_bound
from eventsim.models.neurons._lif_kernel import receive as lif_receive

# LIF's functions branch on these: ALIF's kernel is compiled for every synapse kind
DELTA_ONLY = False
EXP_ONLY = False

from eventsim.engine.dual import compile_functions, source_tag

STATE_DTYPE = np.dtype(_lif.STATE_DTYPE.descr + [("a", "f8")])
USER_PARAMS = _lif.USER_PARAMS + ("tau_a", "delta_th")
PARAM_DTYPE = np.dtype(_lif.PARAM_DTYPE.descr + [
    ("tau_a", "f8"),
    ("delta_th", "f8"),
    ("inv_tau_a", "f8"),   # 1/tau_a
])
# LIF's recordables (threshold = v_th + a here) and the adaptation a itself
RECORDABLE = _lif.RECORDABLE + ("a",)
RECORDABLE_UNITS = _lif.RECORDABLE_UNITS + ("mV",)


def pack_params(pop):
    """Parameter records: LIF's (user and derived fields) plus tau_a, delta_th."""
    base = _lif.pack_params(pop)
    p = np.zeros(pop.size, dtype=PARAM_DTYPE)
    for name in base.dtype.names:
        p[name] = base[name]
    p["tau_a"] = pop.params["tau_a"]
    p["delta_th"] = pop.params["delta_th"]
    p["inv_tau_a"] = 1.0 / p["tau_a"]
    return p


def init_state(pop):
    st = np.zeros(pop.size, dtype=STATE_DTYPE)
    base = _lif.init_state(pop)
    for name in base.dtype.names:
        st[name] = base[name]
    a0 = pop.init.get("a")
    st["a"] = 0.0 if a0 is None else a0
    return st


# ---- equations (plain Python; compiled per target) ----

def load(st):
    return (st.v, st.i_ex, st.i_in, st.di_ex, st.di_in, st.a)


def store(st, s):
    st.v = s[0]
    st.i_ex = s[1]
    st.i_in = s[2]
    st.di_ex = s[3]
    st.di_in = s[4]
    st.a = s[5]


def membrane(s):
    """The LIF part of the state tuple."""
    return (s[0], s[1], s[2], s[3], s[4])


def evolve(s, p, dt, i_ext):
    v, i_ex, i_in, di_ex, di_in = lif_evolve(membrane(s), p, dt, i_ext)
    return (v, i_ex, i_in, di_ex, di_in, s[5] * exp_neg(-dt * p.inv_tau_a))


def evolve_refractory(s, p, dt):
    v, i_ex, i_in, di_ex, di_in = lif_evolve_refractory(membrane(s), p, dt)
    return (v, i_ex, i_in, di_ex, di_in, s[5] * exp_neg(-dt * p.inv_tau_a))


def receive(s, p, w, refractory):
    v, i_ex, i_in, di_ex, di_in = lif_receive(membrane(s), p, w, refractory)
    return (v, i_ex, i_in, di_ex, di_in, s[5])


def gap_now(s, p):
    """v - (v_th + a) now (>= 0 means spike)."""
    return s[0] - p.v_th - s[5]


def gap(s, p, i_ext, t):
    """v(t) - v_th - a(t) after free evolution over t from state s."""
    return lif_gap(membrane(s), p, i_ext, t) - s[5] * exp_neg(-t * p.inv_tau_a)


def gap_bound(s, p, i_ext, t0, t1):
    """An upper bound of gap(t) over [t0, t1] (t1 may be inf): LIF's bound of v - v_th
    plus the maximum of -a0 e^{-t/tau_a} there (at t1 for a0 >= 0, else at t0)."""
    ub = lif_gap_bound(membrane(s), p, i_ext, t0, t1)
    a0 = s[5]
    if a0 > 0.0:
        ub -= a0 * math.exp(-t1 * p.inv_tau_a)
    elif a0 < 0.0:
        ub -= a0 * math.exp(-t0 * p.inv_tau_a)
    return ub


def spike_reset(s, p):
    """v to v_reset, the threshold up by delta_th; synaptic currents untouched."""
    return (p.v_reset, s[1], s[2], s[3], s[4], s[5] + p.delta_th)


def refractory_period(p):
    return p.t_ref


def recordable(s, p):
    """The RECORDABLE values of state s: LIF's, with the moving threshold v_th + a, then a."""
    return (s[0], p.v_th + s[5], s[1] + s[2], s[1], s[2], s[3], s[4], s[5])


FUNCTIONS = ("exp_poly", "exp_neg", "expm1_poly", "expm1_neg",
             "phi", "psp", "decay", "psp_bound", "psi", "chi", "apsp", "q_peak", "apsp_bound", "v_inf", "free_lif_leaked",
             "free_lif",
             "lif_evolve", "lif_evolve_refractory", "lif_receive", "lif_gap", "lif_gap_bound",
             "load", "store", "membrane", "evolve", "evolve_refractory", "receive", "gap_now", "gap",
             "gap_bound", "spike_reset", "refractory_period", "recordable")
# the event loop's per-event calls, inlined on the CPU (see compile_functions)
INLINE = ("exp_poly", "exp_neg", "expm1_poly", "expm1_neg",
          "v_inf", "load", "store", "decay", "free_lif_leaked", "free_lif", "membrane", "lif_evolve", "lif_receive", "lif_gap_bound", "evolve",
          "receive", "gap_now", "gap_bound", "spike_reset", "refractory_period")
# the sources whose code this module compiles besides its own: LIF's functions (their hash
# names the loop's cache entries; numba checks a cached function against its own file only)
SOURCE_MODULES = (_lif,) + _lif.SOURCE_MODULES
CPU = compile_functions(globals(), FUNCTIONS, "cpu", inline=INLINE, tag=source_tag(*SOURCE_MODULES))
