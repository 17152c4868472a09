"""Learning flow: training runs, the promotion gate, versions and what a new version changes."""
