"""Where threads meet the event loop: the state tree, workers, the scheduler, commands."""
