"""Every picture eventsim draws has labelled axes with units, and every colour image a
colour bar (issue 21). The figures are those of the gallery (tools/gallery.py), read as
they are saved: their axes' labels, tick labels and images."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

ROOT = Path(__file__).resolve().parent.parent
# labels that are counts or categories need no unit
UNITLESS = re.compile(r"^(count|neurons|synapses|epoch|hardware profile|neuron \d+)$|^neuron \(")


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("gallery", ROOT / "tools" / "gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    seen = {}
    save = Figure.savefig

    def recording(fig, fname, *args, **kwargs):
        axes = [a for a in fig.axes if a.get_visible()]
        seen[Path(str(fname)).name] = dict(
            axes=[dict(x=a.get_xlabel(), y=a.get_ylabel(), colorbar=hasattr(a, "_colorbar"),
                       yticks=[t.get_text() for t in a.get_yticklabels()],
                       shares_x=[b for b in a.get_shared_x_axes().get_siblings(a) if b is not a],
                       images=any(isinstance(c, AxesImage) for c in a.get_children()), ax=a)
                  for a in axes])
        return save(fig, fname, *args, **kwargs)
    Figure.savefig = recording
    try:
        out = tmp_path_factory.mktemp("gallery") / "gallery"
        gallery.make(out)
    finally:
        Figure.savefig = save
    assert sorted(p.name for p in out.iterdir()) == sorted(gallery.CAPTIONS)
    return seen, gallery.CAPTIONS


def test_the_gallery_has_every_picture(figures):
    seen, captions = figures
    assert set(captions) <= set(seen)


@pytest.mark.parametrize("name", ["raster.png", "activity.png", "isi_rates.png", "weights.png",
                                  "weight_samples.png", "state_adapt.png", "learning.png", "energy.png"])
def test_axes_are_labelled_with_units(figures, name):
    info = figures[0][name]
    axes = [a for a in info["axes"] if not a["colorbar"]]
    assert axes
    x_labelled = {id(a["ax"]) for a in axes if a["x"]}
    for a in axes:
        # an x label on this axis or on one it shares its x axis with (stacked panels)
        assert a["x"] or any(id(b) in x_labelled for b in a["shares_x"]), f"{name}: an axis without x label"
        categorical = any(t and not re.match(r"^[-−\d.e$^{}\\mathrm]+$", t) for t in a["yticks"])
        assert a["y"] or categorical, f"{name}: an axis without y label"
        for label in (a["x"], a["y"]):
            if label:
                assert "(" in label or UNITLESS.search(label), f"{name}: {label!r} has no unit"
    if any(a["images"] for a in axes):
        assert any(a["colorbar"] for a in info["axes"]), f"{name}: a colour image without colour bar"
        bars = [a for a in info["axes"] if a["colorbar"]]
        assert all(b["y"] for b in bars), f"{name}: an unlabelled colour bar"
