"""Serving flow: the in-memory model, classifying and recording questions, scope, batches."""
