"""NIR (the Neuromorphic Intermediate Representation) graphs in and out of eventsim.

- :func:`from_nir`: a NIR graph (``.nir`` file or ``nir.NIRGraph``) as an eventsim Network;
  scenarios name one with ``[network] nir = "model.nir"``.
- :func:`to_nir`: an eventsim network (a scenario) as a NIR graph.

The ``nir`` package is imported only here, when a graph is read or written. Mapping,
units and what is refused: docs/nir.md.
"""
from .api import from_nir, to_nir  # noqa: F401
