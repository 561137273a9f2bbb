"""LIF equations (delta, exponential and alpha current synapses), written once as plain Python.

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
         (= e^{-b t} t phi((a - b) t), used when b < a so that nothing overflows)
The phi form is exact in the limit tau_syn = tau_m (P(t) = t e^{-a t}) and stable near it.
P >= 0 is unimodal with its maximum at t* = ln(b/a)/(b - a) (t* = tau_m when b = a),
which gives the exact per-term bounds that ``gap_bound`` uses for the crossing search.

Alpha synapses (as NEST iaf_psc_alpha_ps): an input of weight w (pA) starts the current
w (t/tau_syn) e^{1 - t/tau_syn}, peak w at t = tau_syn. Per sign the state carries I and
dI = dI/dt + b I (NEST's dI_ex), with dI' = -b dI, I' = -b I + dI; an input adds
w e b to dI. After t: dI(t) = dI0 e^{-b t}, I(t) = (I0 + dI0 t) e^{-b t}, and
    v(t) = [as above] + (dI0/c_m) Q(t),   Q(t) = int_0^t e^{-a (t - s)} s e^{-b s} ds
         = e^{-a t} t^2 psi((b - a) t),   psi(x) = (1 - e^{-x}(1 + x))/x^2   (b >= a)
         = e^{-b t} t^2 chi((a - b) t),   chi(y) = (y - 1 + e^{-y})/y^2      (b < a)
(psi(0) = chi(0) = 1/2, the limit tau_syn = tau_m; the two forms never overflow; both
use their Taylor series near 0, where the closed form cancels). Q >= 0, Q(0) = 0, and
Q' = e^{-a t} g(t) with g(0) = 0, g' = e^{-(b-a) t}(1 - b t), g(inf) < 0: Q is unimodal
with its one maximum at the root t** > 1/b of t e^{-b t} = a Q(t), found once per
neuron by bisection (``q_peak``). So the bound of c Q on [t0, t1] is exact as for P.
The delta and exp paths never touch dI (it stays 0), so they compute as before.
"""
import math
import sys

import numpy as np

from eventsim.engine import elementary
from eventsim.engine.dual import compile_functions, source_tag
from eventsim.engine.elementary import exp_neg, exp_neg_ahead, exp_poly, expm1_neg, expm1_poly  # noqa: F401 (compiled below)

# True only in the kernel compiled for delta synapses (_lif_delta_kernel): a constant of
# compilation, so that numba/LLVM drop the synaptic currents (always 0 with delta synapses)
# from the event loop. Every population of synapse kind "delta" runs that kernel.
DELTA_ONLY = False
# True only in the kernel compiled for exponential synapses (_lif_exp_kernel): the alpha
# synapses' inner variables di_ex, di_in (always 0 there) drop out likewise
EXP_ONLY = False
# True only in the delta kernel: the neuron loop computes the membrane's decay factors of
# a neuron's inputs ahead (``leak``, ``evolve_leaked``; neuron_loop.leak_ahead). There the
# factor is all an input's evolution costs besides a few additions (Brunel's loop about
# 5 % faster); with synaptic currents it is one transcendental of several, and the
# microcircuit's loop ran slower with it
LEAK_AHEAD = False
# True only in the delta kernel: an input while refractory changes nothing (v is clamped,
# delta inputs are dropped, no current to decay), so that the neuron loop skips such
# inputs without the general path's steps (neuron_loop.skip_refractory)
REFRACTORY_INERT = False

STATE_DTYPE = np.dtype([("v", "f8"), ("i_ex", "f8"), ("i_in", "f8"), ("di_ex", "f8"), ("di_in", "f8")])
USER_PARAMS = ("tau_m", "c_m", "v_rest", "v_reset", "v_th", "t_ref", "i_e", "tau_syn_ex", "tau_syn_in")
PARAM_DTYPE = np.dtype([(name, "f8") for name in USER_PARAMS] + [
    ("syn_exp", "f8"),    # 1.0 for exp synapses, 0.0 for delta
    ("syn_alpha", "f8"),  # 1.0 for alpha synapses (then syn_exp = 0.0)
    ("a", "f8"),          # 1/tau_m
    ("b_ex", "f8"),       # 1/tau_syn_ex
    ("b_in", "f8"),       # 1/tau_syn_in
    ("tstar_ex", "f8"),   # argmax of P_ex
    ("tstar_in", "f8"),   # argmax of P_in
    ("e_b_ex", "f8"),     # e/tau_syn_ex: dI_ex jump per pA of an alpha input
    ("e_b_in", "f8"),     # e/tau_syn_in
    ("qstar_ex", "f8"),   # argmax of Q_ex (alpha only)
    ("qstar_in", "f8"),   # argmax of Q_in (alpha only)
    ("R", "f8"),          # tau_m / c_m
    ("v_inf0", "f8"),     # v_rest + i_e R
    ("inv_c", "f8"),      # 1 / c_m
    ("inv_d_ex", "f8"),   # 1/(b_ex - a) (inf when tau_syn_ex = tau_m: then unused)
    ("inv_d_in", "f8"),   # 1/(b_in - a)
])
# what a state probe can sample (``recordable`` returns them in this order), and their units;
# i_ex/i_in are the synaptic currents (alpha too), di_ex/di_in the alpha synapses' inner variable
RECORDABLE = ("v", "threshold", "i_syn", "i_ex", "i_in", "di_ex", "di_in")
RECORDABLE_UNITS = ("mV", "mV", "pA", "pA", "pA", "pA/ms", "pA/ms")


def _tstar(a, b):
    d = b - a
    out = np.empty_like(a)
    eq = np.abs(d) <= 1e-12 * np.maximum(a, b)
    out[eq] = 1.0 / a[eq]
    ne = ~eq
    out[ne] = np.log(b[ne] / a[ne]) / d[ne]
    return out


def _qstar(a, b):
    """argmax of Q per neuron (one bisection per distinct (a, b) pair)."""
    pairs, inv = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    peaks = np.array([CPU.q_peak(x, y) for x, y in pairs])
    return peaks[np.ravel(inv)]


def pack_params(pop):
    """Parameter records of a population (user parameters + derived fields)."""
    p = np.zeros(pop.size, dtype=PARAM_DTYPE)
    for name in USER_PARAMS:
        p[name] = pop.params[name]
    synapse = pop.options.get("synapse", "delta")
    p["syn_exp"] = 1.0 if synapse == "exp" else 0.0
    p["syn_alpha"] = 1.0 if synapse == "alpha" else 0.0
    p["a"] = 1.0 / p["tau_m"]
    p["b_ex"] = 1.0 / p["tau_syn_ex"]
    p["b_in"] = 1.0 / p["tau_syn_in"]
    p["tstar_ex"] = _tstar(p["a"], p["b_ex"])
    p["tstar_in"] = _tstar(p["a"], p["b_in"])
    p["e_b_ex"] = math.e * p["b_ex"]
    p["e_b_in"] = math.e * p["b_in"]
    if synapse == "alpha":
        p["qstar_ex"] = _qstar(p["a"], p["b_ex"])
        p["qstar_in"] = _qstar(p["a"], p["b_in"])
    p["R"] = p["tau_m"] / p["c_m"]
    p["v_inf0"] = p["v_rest"] + p["i_e"] * p["R"]
    p["inv_c"] = 1.0 / p["c_m"]
    with np.errstate(divide="ignore"):   # (tau_syn = tau_m: decay() takes its limit form)
        p["inv_d_ex"] = 1.0 / (p["b_ex"] - p["a"])
        p["inv_d_in"] = 1.0 / (p["b_in"] - p["a"])
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
    return -expm1_neg(-x) / x


def psp(a, b, t):
    """P(t) = (e^{-a t} - e^{-b t})/(b - a), P(inf) = 0. For b < a the equal form
    e^{-b t} t phi((a - b) t) is used: e^{-a t} phi((b - a) t) would be 0 * inf = nan for
    (a - b) t > 709 (a gap of seconds between inputs when tau_syn > tau_m)."""
    if t == math.inf:
        return 0.0
    d = b - a
    if d >= 0.0:
        return exp_neg(-a * t) * t * phi(d * t)
    return exp_neg(-b * t) * t * phi(-d * t)


def psi(x):
    """(1 - e^{-x}(1 + x))/x^2 for x >= 0 (Taylor series near 0, where it cancels)."""
    if x < 0.1:
        return 0.5 + x * (-1.0 / 3.0 + x * (1.0 / 8.0 + x * (-1.0 / 30.0 + x * (1.0 / 144.0 + x * (
            -1.0 / 840.0 + x * (1.0 / 5760.0 + x * (-1.0 / 45360.0 + x * (1.0 / 403200.0))))))))
    return (-math.expm1(-x) - x * math.exp(-x)) / (x * x)


def chi(y):
    """(y - 1 + e^{-y})/y^2 for y >= 0 (Taylor series near 0, where it cancels)."""
    if y < 0.1:
        return 0.5 + y * (-1.0 / 6.0 + y * (1.0 / 24.0 + y * (-1.0 / 120.0 + y * (1.0 / 720.0 + y * (
            -1.0 / 5040.0 + y * (1.0 / 40320.0 + y * (-1.0 / 362880.0 + y * (1.0 / 3628800.0))))))))
    return (y + math.expm1(-y)) / (y * y)


def apsp(a, b, t):
    """Q(t) = int_0^t e^{-a (t - s)} s e^{-b s} ds (membrane response to t e^{-b t}), Q(inf) = 0."""
    if t == math.inf:
        return 0.0
    d = b - a
    if d >= 0.0:
        return math.exp(-a * t) * t * t * psi(d * t)
    return math.exp(-b * t) * t * t * chi(-d * t)


def q_peak(a, b):
    """The one maximum of Q: the root t > 1/b of t e^{-b t} - a Q(t) (the sign of Q'),
    bracketed by doubling and bisected to the last bit."""
    lo = 1.0 / b
    hi = 2.0 * lo
    for _ in range(2000):
        if hi * math.exp(-b * hi) - a * apsp(a, b, hi) < 0.0:
            break
        lo = hi
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if mid * math.exp(-b * mid) - a * apsp(a, b, mid) >= 0.0:
            lo = mid
        else:
            hi = mid
    return lo


def apsp_bound(c, a, b, qstar, t0, t1):
    """Upper bound of c * Q(t) over [t0, t1] (exact: Q is unimodal with its peak at qstar)."""
    if c > 0.0:
        tm = min(max(qstar, t0), t1)
        return c * apsp(a, b, tm)
    return c * min(apsp(a, b, t0), apsp(a, b, t1))


def psp_bound(c, a, b, tstar, t0, t1):
    """Upper bound of c * P(t) over [t0, t1] (exact: P is unimodal with its peak at tstar)."""
    if c > 0.0:
        tm = min(max(tstar, t0), t1)
        return c * psp(a, b, tm)
    return c * min(psp(a, b, t0), psp(a, b, t1))


def v_inf(p, i_ext):
    return p.v_inf0 + i_ext * p.R


def load(st):
    """A neuron's state record -> the state tuple (v, i_ex, i_in, di_ex, di_in) the kernels
    work on (tuples live in registers; the record is written back once per window).
    DELTA_ONLY: the currents are the constant 0, so that the compiler drops them and every
    branch on them."""
    if DELTA_ONLY:
        return (st.v, 0.0, 0.0, 0.0, 0.0)
    if EXP_ONLY:
        return (st.v, st.i_ex, st.i_in, 0.0, 0.0)
    return (st.v, st.i_ex, st.i_in, st.di_ex, st.di_in)


def store(st, s):
    st.v = s[0]
    if not DELTA_ONLY:
        st.i_ex = s[1]
        st.i_in = s[2]
    if not (DELTA_ONLY or EXP_ONLY):
        st.di_ex = s[3]
        st.di_in = s[4]


def decay(a, b, dt, ea, inv_d):
    """(e^{-b dt}, P(dt)) given ea = e^{-a dt}: one expm1 instead of two exps and an expm1.

    For b >= a, e^{-b dt} = ea (1 + m) and P(dt) = ea dt phi(d dt) = -ea m / d with
    d = b - a, m = expm1(-d dt) (both within a few ulp of the direct forms); inv_d = 1/d
    is the neuron's constant, so that an input costs no division (no measurable gain on
    one thread, about 4 % on two: docs/benchmarks.md). For b < a ea can underflow while
    e^{-b dt} does not: the direct forms are used.
    """
    d = b - a
    if d < 0.0:
        return exp_neg(-b * dt), psp(a, b, dt)
    x = d * dt
    if x == 0.0:
        return ea, ea * dt
    m = expm1_neg(-x)
    return ea + ea * m, ea * (-m) * inv_d


def free_lif(s, p, dt, i_ext):
    """Free evolution over dt (not refractory) with constant external current i_ext (pA)
    (``evolve``; under this name for ``gap`` here and in models that extend LIF)."""
    return free_lif_leaked(s, p, dt, i_ext, exp_neg(-p.a * dt))


def free_lif_leaked(s, p, dt, i_ext, ea):
    """``free_lif`` given the membrane's decay over dt, ea = e^{-a dt} (= exp_neg(-a dt)).

    e^{-a dt} is computed once; the excitatory and inhibitory exp terms share their
    decay when tau_syn_ex = tau_syn_in (the common case: two transcendentals in all)."""
    v, i_ex, i_in, di_ex, di_in = s
    vi = v_inf(p, i_ext)
    v = vi + (v - vi) * ea
    if DELTA_ONLY:
        # the literal zeros: a current returned as computed (0 e^{-b dt}) is not known to
        # be 0 by the compiler (0 x is nan for an infinite x), which then carried four
        # zeros through the event loop and tested them at every input (Brunel 8-15 %)
        return (v, 0.0, 0.0, 0.0, 0.0)
    eb_ex = 1.0
    pex = 0.0
    have_ex = False
    if i_ex != 0.0:
        eb_ex, pex = decay(p.a, p.b_ex, dt, ea, p.inv_d_ex)
        have_ex = True
        v += i_ex * p.inv_c * pex
        i_ex *= eb_ex
    if i_in != 0.0:
        if have_ex and p.b_in == p.b_ex:
            eb_in, pin = eb_ex, pex
        else:
            eb_in, pin = decay(p.a, p.b_in, dt, ea, p.inv_d_in)
        v += i_in * p.inv_c * pin
        i_in *= eb_in
    if EXP_ONLY:
        return (v, i_ex, i_in, 0.0, 0.0)
    if di_ex != 0.0:
        v += di_ex * p.inv_c * apsp(p.a, p.b_ex, dt)
        di_ex *= exp_neg(-p.b_ex * dt)
        i_ex += di_ex * dt
    if di_in != 0.0:
        v += di_in * p.inv_c * apsp(p.a, p.b_in, dt)
        di_in *= exp_neg(-p.b_in * dt)
        i_in += di_in * dt
    return (v, i_ex, i_in, di_ex, di_in)


def evolve(s, p, dt, i_ext):
    """Free evolution over dt (not refractory) with constant external current i_ext (pA)."""
    return free_lif(s, p, dt, i_ext)


def leak(p, dt):
    """The membrane's decay over dt, e^{-a dt}, where ``exp_neg``'s polynomial gives it,
    else nan (``exp_neg_ahead``): the neuron loop computes the factors of a neuron's
    inputs of a window ahead with it, in a loop that vectorises, and passes each to
    ``evolve_leaked``."""
    return exp_neg_ahead(-p.a * dt)


def relative_leak(p, i_ext):
    """Whether the membrane relaxes to v_inf = +0.0 (potentials relative to rest and no
    constant current: Brunel's convention) with delta synapses: then ``free_lif_leaked``'s
    leak vi + (v - vi) ea is v ea + 0.0, and ``evolve_relative`` leaves the + 0.0 out."""
    vi = v_inf(p, i_ext)
    return DELTA_ONLY and vi == 0.0 and math.copysign(1.0, vi) > 0.0


def evolve_relative(s, p, ea):
    """``evolve_leaked`` where ``relative_leak`` holds, without the addition of v_inf = +0.0:
    v ea. The two differ only where v ea is -0.0 (+ 0.0 makes it +0.0), and once the
    next input's weight w is added, only for w = -0.0 (the neuron loop leaves such an
    input to ``evolve_leaked``). A subtraction and an addition fewer on the chain of
    dependent operations from one input to the next (a run's 3.5 ns per input 1.9 ns, in
    cache; Brunel's loop about 2.5 % faster)."""
    return (s[0] * ea, 0.0, 0.0, 0.0, 0.0)


def evolve_leaked(s, p, dt, i_ext, ea):
    """``evolve`` given ea = leak(p, dt), not nan: the same arithmetic, the same result."""
    return free_lif_leaked(s, p, dt, i_ext, ea)


def evolve_refractory(s, p, dt):
    """Evolution over dt while v is clamped at v_reset: synaptic currents decay."""
    v, i_ex, i_in, di_ex, di_in = s
    if DELTA_ONLY:
        return (v, 0.0, 0.0, 0.0, 0.0)
    if (i_ex != 0.0) | (i_in != 0.0):
        e_ex = exp_neg(-p.b_ex * dt)
        e_in = e_ex if p.b_in == p.b_ex else exp_neg(-p.b_in * dt)
        i_ex *= e_ex
        i_in *= e_in
    if EXP_ONLY:
        return (v, i_ex, i_in, 0.0, 0.0)
    if di_ex != 0.0:
        di_ex *= exp_neg(-p.b_ex * dt)
        i_ex += di_ex * dt
    if di_in != 0.0:
        di_in *= exp_neg(-p.b_in * dt)
        i_in += di_in * dt
    return (v, i_ex, i_in, di_ex, di_in)


def receive(s, p, w, refractory):
    """An input of weight w arrives (delta: mV jump, dropped while refractory; exp: pA;
    alpha: peak pA, starting the alpha current through dI)."""
    v, i_ex, i_in, di_ex, di_in = s
    if DELTA_ONLY:
        if not refractory:
            v += w
        return (v, 0.0, 0.0, 0.0, 0.0)
    if EXP_ONLY:
        if w >= 0.0:
            i_ex += w
        else:
            i_in += w
        return (v, i_ex, i_in, 0.0, 0.0)
    if p.syn_alpha != 0.0:
        if w >= 0.0:
            di_ex += w * p.e_b_ex
        else:
            di_in += w * p.e_b_in
    elif p.syn_exp == 0.0:
        if not refractory:
            v += w
    elif w >= 0.0:
        i_ex += w
    else:
        i_in += w
    return (v, i_ex, i_in, di_ex, di_in)


def gap_now(s, p):
    """v - threshold now (>= 0 means spike)."""
    return s[0] - p.v_th


def gap(s, p, i_ext, t):
    """v(t) - v_th after free evolution over t from state s (evolve's v: one source)."""
    return free_lif(s, p, t, i_ext)[0] - p.v_th


def gap_bound(s, p, i_ext, t0, t1):
    """An upper bound of gap(t) over [t0, t1] (t1 may be inf), exact term by term.

    The common cases cost no exp: without synaptic current (delta synapses) v relaxes
    monotonically towards v_inf, so it stays below max(v, v_inf); at t0 = 0 the leak
    term's bound is v itself.

    First a bound without any transcendental, valid on [0, t1] (so on [t0, t1]): the
    leak term vi + c e^{-a t} is at most v for c >= 0 and at most v - c a t1 for c < 0
    (e^{-x} >= 1 - x); P(t) <= t and Q(t) <= t^2/2 bound the positive current terms and
    the negative ones are at most 0. Over the short gaps between inputs it is almost
    always negative, and then the exact bound (also negative: it is smaller) is not
    needed: the sign is all the crossing search uses.

    Where tau_syn_ex = tau_syn_in (the microcircuit's populations, among others) the two
    exp currents drive v through the same kernel P, so the exact bound takes their terms
    as one, (I_ex + I_in) P(t): one psp instead of three, and a bound that is exact for
    the sum, not for each term apart (an inhibitory current larger than the excitatory
    one no longer leaves the excitatory term's bound standing). The bound only decides
    which intervals the search skips, never where a crossing is found
    (``neuron_loop.first_crossing``): the same spikes, fewer and cheaper evaluations
    (the microcircuit's loop 2-5 % faster). The quick bound keeps the terms apart: with
    the sum there too the loop ran about 4 % slower (measured in alternation, five pairs
    of five; the compiled tight loop changes with it).
    """
    v, i_ex, i_in, di_ex, di_in = s
    vi = v_inf(p, i_ext)
    no_current = (i_ex == 0.0) & (i_in == 0.0) & (di_ex == 0.0) & (di_in == 0.0)
    if no_current:   # (always so with delta synapses)
        top = max(v, vi)
        if top < p.v_th:
            return top - p.v_th
    c = v - vi
    if t1 < math.inf:
        quick = v if c >= 0.0 else v - c * p.a * t1
        quick += (max(i_ex, 0.0) + max(i_in, 0.0)) * p.inv_c * t1
        quick += (max(di_ex, 0.0) + max(di_in, 0.0)) * p.inv_c * (0.5 * t1 * t1)
        if quick < p.v_th:
            return quick - p.v_th
    if p.b_in == p.b_ex:
        i_ex += i_in
        i_in = 0.0
    if c > 0.0:
        ub = v if t0 == 0.0 else vi + c * exp_neg(-p.a * t0)
        if no_current:
            return ub - p.v_th
    else:
        ub = vi + c * exp_neg(-p.a * t1)
    if i_ex != 0.0:
        ub += psp_bound(i_ex * p.inv_c, p.a, p.b_ex, p.tstar_ex, t0, t1)
    if i_in != 0.0:
        ub += psp_bound(i_in * p.inv_c, p.a, p.b_in, p.tstar_in, t0, t1)
    if di_ex != 0.0:
        ub += apsp_bound(di_ex * p.inv_c, p.a, p.b_ex, p.qstar_ex, t0, t1)
    if di_in != 0.0:
        ub += apsp_bound(di_in * p.inv_c, p.a, p.b_in, p.qstar_in, t0, t1)
    return ub - p.v_th


def spike_reset(s, p):
    if DELTA_ONLY:
        return (p.v_reset, 0.0, 0.0, 0.0, 0.0)
    if EXP_ONLY:
        return (p.v_reset, s[1], s[2], 0.0, 0.0)
    return (p.v_reset, s[1], s[2], s[3], s[4])


def refractory_period(p):
    return p.t_ref


def recordable(s, p):
    """The RECORDABLE values of state s (a pure read: v, threshold v_th, I_ex + I_in, ...)."""
    return (s[0], p.v_th, s[1] + s[2], s[1], s[2], s[3], s[4])


FUNCTIONS = ("exp_poly", "exp_neg", "exp_neg_ahead", "expm1_poly", "expm1_neg",
             "phi", "psp", "decay", "psp_bound", "psi", "chi", "apsp", "q_peak", "apsp_bound", "v_inf", "load", "store",
             "free_lif_leaked", "free_lif", "evolve", "leak", "evolve_leaked", "relative_leak", "evolve_relative",
             "evolve_refractory",
             "receive", "gap_now", "gap", "gap_bound", "spike_reset", "refractory_period", "recordable")
# the event loop's per-event calls, inlined on the CPU (see compile_functions)
INLINE = ("exp_poly", "exp_neg", "exp_neg_ahead", "expm1_poly", "expm1_neg",
          "v_inf", "load", "store", "decay", "free_lif_leaked", "free_lif", "evolve", "leak", "evolve_leaked", "relative_leak",
          "evolve_relative", "receive", "gap_now", "gap_bound", "spike_reset",
          "refractory_period")
# the sources whose code this module compiles besides its own (their hash names the
# compiled functions' and the loop's cache entries: numba checks a cached function
# against its own file only)
SOURCE_MODULES = (elementary,)
CPU = compile_functions(globals(), FUNCTIONS, "cpu", inline=INLINE, tag=source_tag(*SOURCE_MODULES))


def compile_variant(variant_globals, **flags):
    """Make a variant module (``_lif_delta_kernel``, ``_lif_exp_kernel``) this kernel with
    ``flags`` (DELTA_ONLY, EXP_ONLY) set as constants of compilation: this module's
    functions and constants bound in the variant's namespace, its SOURCE_MODULES set (this
    module's source names its cache entries) and its CPU compilation returned."""
    variant_globals.update({k: v for k, v in globals().items() if not k.startswith("__")})
    variant_globals.update(flags)
    variant_globals["SOURCE_MODULES"] = (sys.modules[__name__],) + SOURCE_MODULES
    return compile_functions(variant_globals, FUNCTIONS, "cpu", inline=INLINE,
                             tag=source_tag(*variant_globals["SOURCE_MODULES"]))
