"""Review flow: corrections, the inbox and its decisions, the merge guard, label help."""
