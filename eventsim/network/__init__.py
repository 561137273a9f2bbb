"""Network construction: populations, projections, stimuli -> a CSR synapse table."""
from .build import build_network  # noqa: F401
from .core import Network, Population, Projection, Stimulus  # noqa: F401
from .graph import network_from_graph  # noqa: F401
from .memory import check_fits, estimate_memory  # noqa: F401
