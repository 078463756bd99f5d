"""Running a scenario: the runner, its run folder, and the host-load guard beside it."""
