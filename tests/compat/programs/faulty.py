"""A raspend 2.x program with each thing that broke raspend: a raising handler, a stuck one."""

import argparse
import time

from raspend import RaspendApplication, ThreadHandlerBase


class Flaky(ThreadHandlerBase):
    """Counts its runs, then raises: raspend's thread died here holding the data lock."""

    def prepare(self):
        self.sharedDict["flaky"] = {"runs": 0}

    def invoke(self):
        self.sharedDict["flaky"]["runs"] += 1
        raise RuntimeError("sensor unplugged")


class Stuck(ThreadHandlerBase):
    """Blocks and never looks at aborted(), like a serial read without a timeout."""

    def prepare(self):
        pass

    def invoke(self):
        self.sharedDict["stuck"] = "entered"
        time.sleep(3600)


class Thermostat:
    def setTarget(self, room: str, celsius: float, boost: bool = False):
        return {"room": room, "celsius": celsius, "boost": boost}


def main():
    parser = argparse.ArgumentParser(prog="faulty")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    app = RaspendApplication(args.port)
    app.createWorkerThread(Flaky(), 0.1)
    app.createWorkerThread(Stuck(), 1)
    thermostat = Thermostat()
    app.addCommand(thermostat.setTarget)
    app.run()


if __name__ == "__main__":
    main()
