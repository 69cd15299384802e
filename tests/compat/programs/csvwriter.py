"""A raspend 2.x program that counts and writes the counts to a CSV file every second."""

import argparse
import datetime
import logging
import os

from raspend import RaspendApplication, ScheduleRepetitionType, ThreadHandlerBase


class CountUp(ThreadHandlerBase):
    def prepare(self):
        self.sharedDict["counter"] = {"value": 0}

    def invoke(self):
        self.sharedDict["counter"]["value"] += 1


class WriteCountsToFile(ThreadHandlerBase):
    def __init__(self, fileName):
        self.fileName = fileName

    def prepare(self):
        if not os.path.exists(self.fileName):
            with open(self.fileName, "w") as f:
                f.write("time;counter\n")

    def invoke(self):
        with open(self.fileName, "a") as f:
            f.write(f"{datetime.datetime.now().isoformat()};{self.sharedDict['counter']['value']}\n")


def main():
    parser = argparse.ArgumentParser(prog="csvwriter")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--csv", required=True)
    args = parser.parse_args()
    logging.basicConfig(filename="csvwriter.log", level=logging.INFO)
    logging.info("Starting (PID=%d)", os.getpid())

    myApp = RaspendApplication(args.port)
    myApp.createWorkerThread(CountUp(), 0.1)
    # Start time and date None: now, so the first line comes one second from now.
    myApp.createScheduledWorkerThread(
        WriteCountsToFile(args.csv), None, None, ScheduleRepetitionType.SECOND, 1
    )
    myApp.run()
    with open(args.csv, "a") as f:
        f.write("stopped\n")


if __name__ == "__main__":
    main()
