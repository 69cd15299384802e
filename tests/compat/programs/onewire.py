"""raspend 2.x 1-Wire temperature readers (DS18B20 `w1_slave` files), as in raspend's examples."""

import argparse
import os
import time

from raspend import RaspendApplication, ThreadHandlerBase


class ReadOneWireTemperature(ThreadHandlerBase):
    def __init__(self, groupId, sensorId, oneWireSensorPath):
        self.groupId = groupId
        self.sensorId = sensorId
        self.oneWireSensorPath = oneWireSensorPath

    def prepare(self):
        if self.groupId not in self.sharedDict:
            self.sharedDict[self.groupId] = {}
        self.sharedDict[self.groupId][self.sensorId] = 0

    def invoke(self):
        # A missing or half-written file raises here; raspend's thread died of that.
        with open(self.oneWireSensorPath) as f:
            lines = f.read().splitlines()
        if not lines[0].strip().endswith("YES"):
            raise ValueError(f"CRC check failed for {self.sensorId}")
        millis = int(lines[1].split("t=")[1])
        self.sharedDict[self.groupId][self.sensorId] = round(millis / 1000.0, 3)


def main():
    parser = argparse.ArgumentParser(prog="onewire")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", default=os.environ.get("W1_DEVICES", "/sys/bus/w1/devices"))
    parser.add_argument("--interval", type=float, default=60)
    parser.add_argument("--sensor", action="append", default=[], help="group/name=28-xxxxxxxxxxxx")
    args = parser.parse_args()

    myApp = RaspendApplication(args.port)
    myApp.updateSharedDict({"Starting Time": time.asctime()})
    for spec in args.sensor:
        where, device = spec.split("=")
        group, name = where.split("/")
        path = os.path.join(args.devices, device, "w1_slave")
        myApp.createWorkerThread(ReadOneWireTemperature(group, name, path), args.interval)
    myApp.run()


if __name__ == "__main__":
    main()
