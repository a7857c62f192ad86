"""A realistic demo network: stores in real cities, warehouses, a catalogue and its history."""

from adapters.demo.network import DemoNetwork, build_network
from adapters.demo.seed import seed

__all__ = ["DemoNetwork", "build_network", "seed"]
