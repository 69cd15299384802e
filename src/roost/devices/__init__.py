"""Switches, plugs and sensors, and the drivers that reach them."""

from roost.devices.plugs import PlugDriver, PlugReading, Plugs
from roost.devices.simulated import SimulatedPlug

__all__ = ["PlugDriver", "PlugReading", "Plugs", "SimulatedPlug"]
