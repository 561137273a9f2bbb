"""eventsim: exact, event-driven simulation of spiking neural networks."""
__version__ = "0.1.0"
