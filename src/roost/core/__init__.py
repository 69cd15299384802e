"""Pure building blocks: paths, the tree, command specs, schedules, errors.

Standard library only (orjson is used when present, never required). No I/O,
threads, asyncio or sqlite3 here, so everything can be tested exhaustively.
"""
