"""A raspend 2.x doorbell, written as raspend programs are: commands on an object."""

import argparse
import time

from raspend import RaspendApplication


class DoorBell:
    def __init__(self, sharedDict, accessLock):
        self.sharedDict = sharedDict
        self.accessLock = accessLock
        self.doorBellState = "on"
        self.sharedDict["doorbell"] = {"state": "on", "rings": 0}

    def switchDoorBell(self, onoff):
        # Untyped, as in raspend's README: query strings arrive as str, JSON as anything.
        if type(onoff) == str:  # noqa: E721
            self.doorBellState = "on" if onoff == "on" else "off"
        elif type(onoff) == int:  # noqa: E721
            self.doorBellState = "on" if onoff >= 1 else "off"
        else:
            raise TypeError("State must be 'int' or 'string'.")
        self.sharedDict["doorbell"]["state"] = self.doorBellState
        return self.doorBellState

    def getCurrentState(self):
        return self.doorBellState

    def ring(self, times: int = 1, visitor: str = "someone") -> str:
        """Ring the bell."""
        if self.doorBellState == "off":
            return "the doorbell is switched off"
        with self.accessLock:
            self.sharedDict["doorbell"]["rings"] += times
        self.sharedDict["doorbell"]["last_ring"] = {"visitor": visitor, "at": time.time()}
        return f"ding dong x{times}: {visitor}"


def main():
    cmdLineParser = argparse.ArgumentParser(prog="doorbell")
    cmdLineParser.add_argument("--port", help="The port the server should listen on", type=int)
    args = cmdLineParser.parse_args()

    myApp = RaspendApplication(args.port)
    theDoorBell = DoorBell(myApp.getSharedDict(), myApp.getAccessLock())
    myApp.addCommand(theDoorBell.switchDoorBell)
    myApp.addCommand(theDoorBell.getCurrentState)
    myApp.addCommand(theDoorBell.ring)
    myApp.run()
    print("Exit")


if __name__ == "__main__":
    main()
