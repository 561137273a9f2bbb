"""Independent 40-digit check of tests/data/nest/iaf_psc_alpha_ps.json: exact alpha-LIF threshold crossings
(closed-form membrane response, mpmath root) against NEST and eventsim, per output spike.

Usage: PYTHONPATH=tests python tools/nest/check_alpha_exact.py CASE [CASE...]   (run from the repository root; ~90 s per case)
"""
import json, os, sys
import numpy as np, mpmath as mp
from eventsim.engine.simulation import Simulation
from netutil import lif_pop, network, spike_source
mp.mp.dps = 40
REF=json.load(open(os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'data', 'nest', 'iaf_psc_alpha_ps.json')))
for case in sys.argv[1:]:
    c=REF['cases'][case]; P=c['neuron_params']
    p=dict(c['eventsim_lif']); v0=p.pop('v'); p.pop('synapse')
    t=c['input']['emission_times_ms']; w=c['input']['weights_pA']; d=c['input']['delay_ms']
    sim=Simulation(network([spike_source('gen',[[x] for x in t],0), lif_pop('n',1,len(t),synapse='alpha',v0=v0,**p)],[(k,len(t),ww,d,0) for k,ww in enumerate(w)]))
    sim.run(500.0); got,_=sim.spikes('n'); e=c['spike_times_ms']
    arr=[(mp.mpf(x)+mp.mpf(d), mp.mpf(ww)) for x,ww in zip(t,w)]
    tm=mp.mpf(P['tau_m']); C=mp.mpf(P['C_m']); EL=mp.mpf(P['E_L'])
    def V(tt, tr, vr):
        v = EL + (vr-EL)*mp.exp(-(tt-tr)/tm) + mp.mpf(P['I_e'])*tm/C*(1-mp.exp(-(tt-tr)/tm))
        for tj,wj in arr:
            if tj >= tt: continue
            ts = mp.mpf(P['tau_syn_ex'] if wj >= 0 else P['tau_syn_in'])
            a = 1/tm - 1/ts
            lo = max(tr, tj)
            F = lambda u: mp.exp(a*u)*((u-tj)/a - 1/a**2)
            v += wj*mp.e/ts*mp.exp(tj/ts)/C*mp.exp(-tt/tm)*(F(tt)-F(lo))
        return v
    worst=(0,0,0)
    for k in range(len(e)):
        tr = (mp.mpf(e[k-1]) + mp.mpf(P['t_ref'])) if k else mp.mpf(0)
        vr = mp.mpf(P['V_reset']) if k else mp.mpf(P['V_m'])
        f = lambda x: V(x, tr, vr) - mp.mpf(P['V_th'])
        root = mp.findroot(f, (mp.mpf(e[k])-mp.mpf('1e-6'), mp.mpf(e[k])+mp.mpf('1e-6')), solver='anderson')
        dn, de = float(mp.mpf(e[k])-root), float(mp.mpf(float(got[k]))-root)
        slope = float(mp.diff(f, root))
        if k in (22,23) or abs(de)>1e-10 or abs(dn)>1e-11: print(case, k, 'nest-exact %.2e  eventsim-exact %.2e  dV/dt %.3g mV/ms' % (dn, de, slope))
        worst=(max(worst[0],abs(dn)),max(worst[1],abs(de)),0)
    print(case, 'max |nest-exact| %.2e  max |eventsim-exact| %.2e' % worst[:2])
