"""Draw every picture eventsim makes into docs/gallery/ and list them in docs/gallery.md.

    python tools/gallery.py [--out docs/gallery]

Runs three small scenarios (seconds): tests/data/scenarios/resume.toml (spikes of five
kinds of population, STDP weights and their samples, a state probe), the emotion parity
task at 10 epochs (learning curves), and prices the first on every hardware profile.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAPTIONS = {
    "raster.png": "Spike raster: every population, at most 200 evenly spaced neurons each.",
    "activity.png": "Population activity (active neurons per bin) and its power spectrum.",
    "isi_rates.png": "Inter-spike intervals and firing rates per population.",
    "weights.png": "Final weights of the recorded projections (`[record] weights`).",
    "weight_samples.png": "Weights over time (`[record] weights_interval`): synapses per weight bin.",
    "state_adapt.png": "Recorded state (`[[record.state]]`): v and the adaptive threshold a, spikes on top.",
    "learning.png": "Learning curves of a trial run: accuracy, weight change and emotion per epoch.",
    "energy.png": "Energy of the run on each hardware profile: dynamic split by operation, totals with bands.",
}


def make(out):
    import eventsim
    from eventsim.analysis.cli import analyze_file
    from eventsim.energy.cli import run_energy
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    sc = eventsim.load(str(ROOT / "tests" / "data" / "scenarios" / "resume.toml"))
    eventsim.run_scenario(sc, tmp / "rich.h5")
    analyze_file(tmp / "rich.h5", plots_dir=tmp / "rich", force=True)
    with open(tmp / "energy.txt", "w") as sink:
        run_energy(tmp / "rich.h5", plot=tmp / "rich" / "energy.png", out=sink)
    trial = eventsim.load_scenario(ROOT / "scenarios" / "emotion_parity_5_2.toml", overrides={"trials.epochs": 10})
    eventsim.run_scenario(trial, tmp / "trial.h5")
    analyze_file(tmp / "trial.h5", plots_dir=tmp / "trial", force=True)
    shutil.copy(tmp / "trial" / "learning.png", tmp / "rich" / "learning.png")
    lines = ["# Gallery: every picture eventsim draws", "",
             "Made by `python tools/gallery.py` from small runs (see its docstring); `eventsim analyze "
             "OUT.h5 --plots DIR` draws the first seven, `eventsim energy OUT.h5 --plot PNG` the last.", ""]
    for name, caption in CAPTIONS.items():
        shutil.copy(tmp / "rich" / name, out / name)
        lines += [f"## {name}", "", caption, "", f"![{name}](gallery/{name})", ""]
    (out.parent / "gallery.md").write_text("\n".join(lines))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    make(p.parse_args().out)
