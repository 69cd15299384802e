"""raspend 2.x's public API on roost: run raspend programs unchanged, without its failure modes.

`roost raspend PROGRAM.py` makes `from raspend import ...` resolve here; a
program may also import `roost.compat.raspend` itself. See docs/raspend.md.
"""

from roost.compat.raspend.application import RaspendApplication
from roost.compat.raspend.handlers import ScheduleRepetitionType, ThreadHandlerBase

__all__ = ["RaspendApplication", "ScheduleRepetitionType", "ThreadHandlerBase"]
