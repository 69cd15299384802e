"""Switches, plugs and sensors: devices with drivers, weekly schedules, a standby killer and overrides."""

from roost.devices.base import NoConfirmation, UnknownDevice, UnknownSchedule
from roost.devices.driver import AsyncDriver, Driver, Reading, SyncDriver, build_driver, register_driver
from roost.devices.manager import Devices
from roost.devices.model import CATEGORIES, DeviceSettings, Override, SwitchEvent
from roost.devices.simulated import SimulatedPlug

__all__ = [
    "CATEGORIES",
    "AsyncDriver",
    "DeviceSettings",
    "Devices",
    "Driver",
    "NoConfirmation",
    "Override",
    "Reading",
    "SimulatedPlug",
    "SwitchEvent",
    "SyncDriver",
    "UnknownDevice",
    "UnknownSchedule",
    "build_driver",
    "register_driver",
]
