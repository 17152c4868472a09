"""The processes qcapp runs as, each building the app it serves: gunicorn's worker class, what
the arbiter asks of the app before its first worker starts, and the standby training process."""
