"""Data flow: imported datasets and the training set merged from them and approved corrections."""
