"""A raspend 2.x program that posts its whole shared dict as JSON to an HTTP endpoint."""

import argparse
import json
import urllib.request

from raspend import RaspendApplication, ThreadHandlerBase


class ReadMeter(ThreadHandlerBase):
    def prepare(self):
        self.reading = 0

    def invoke(self):
        self.reading += 1
        thisDict = self.sharedDict["meter"]
        thisDict["power_w"] = 100.0 + self.reading
        thisDict["history"].append(self.reading)
        del thisDict["history"][:-3]


class PublishSharedDict(ThreadHandlerBase):
    def __init__(self, endPointURL):
        self.endPoint = endPointURL

    def prepare(self):
        pass

    def invoke(self):
        data = json.dumps(self.sharedDict).encode()
        request = urllib.request.Request(self.endPoint, data, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            self.sharedDict["publisher"]["last_status"] = response.status


def main():
    parser = argparse.ArgumentParser(prog="publisher")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()

    initial = {"site": {"name": "cellar"}, "meter": {"power_w": 0.0, "history": []}, "publisher": {}}
    myApp = RaspendApplication(args.port, initial)
    myApp.createWorkerThread(ReadMeter(), 0.1)
    myApp.createWorkerThread(PublishSharedDict(args.endpoint), 0.2)
    myApp.run()
    print("final", json.dumps(initial["meter"]["power_w"]))


if __name__ == "__main__":
    main()
