"""Learning flow: what a run does, as named steps (``pipeline``: read, train, evaluate, flips,
decide, save, register, activate), the kind of run (``plan``), the promotion gate (``gate``), what
is measured after (``cross_validation``), versions, flips, provenance and the label cache.

How a run gets a process is ``qcapp.runs``'s, which imports from here and never the other way.
"""
