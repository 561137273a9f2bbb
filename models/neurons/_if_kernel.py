"""Kernel of the perfect integrate-and-fire neuron (model ``if``, declared in iaf.py).

    dv/dt = (i_e + I_stim)/c_m,   v += w on arrival (dropped while refractory),
    spike when v reaches v_th; v = v_reset held for t_ref.

gap(t) = v + k t - v_th with k = (i_e + I_stim)/c_m is a straight line, so its bound on
[t0, t1] is its value at t1 when rising and at t0 otherwise: the crossing search is exact.
"""
import math

import numpy as np

from eventsim.engine.dual import compile_functions

STATE_DTYPE = np.dtype([("v", "f8")])
USER_PARAMS = ("c_m", "v_reset", "v_th", "t_ref", "i_e")
PARAM_DTYPE = np.dtype([(name, "f8") for name in USER_PARAMS])


def pack_params(pop):
    p = np.zeros(pop.size, dtype=PARAM_DTYPE)
    for name in USER_PARAMS:
        p[name] = pop.params[name]
    return p


def init_state(pop):
    st = np.zeros(pop.size, dtype=STATE_DTYPE)
    st["v"] = pop.init["v"]
    return st


def load(st):
    return (st.v,)


def store(st, s):
    st.v = s[0]


def slope(p, i_ext):
    return (p.i_e + i_ext) / p.c_m


def evolve(s, p, dt, i_ext):
    return (s[0] + slope(p, i_ext) * dt,)


def evolve_refractory(s, p, dt):
    return s


def receive(s, p, w, refractory):
    if refractory:
        return s
    return (s[0] + w,)


def gap_now(s, p):
    return s[0] - p.v_th


def gap(s, p, i_ext, t):
    return s[0] + slope(p, i_ext) * t - p.v_th


def gap_bound(s, p, i_ext, t0, t1):
    k = slope(p, i_ext)
    if k > 0.0:
        return s[0] + k * t1 - p.v_th if t1 < math.inf else math.inf
    return s[0] + k * t0 - p.v_th


def spike_reset(s, p):
    return (p.v_reset,)


def refractory_period(p):
    return p.t_ref


FUNCTIONS = ("load", "store", "slope", "evolve", "evolve_refractory", "receive", "gap_now", "gap",
             "gap_bound", "spike_reset", "refractory_period")
CPU = compile_functions(globals(), FUNCTIONS, "cpu")
