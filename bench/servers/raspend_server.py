"""raspend 2.0.4 serving a given dict at /data (argv: port, JSON file). Runs in raspend's own venv."""

import json
import sys
from pathlib import Path

from raspend import RaspendApplication

shared = json.loads(Path(sys.argv[2]).read_text())
RaspendApplication(int(sys.argv[1]), shared).run()
