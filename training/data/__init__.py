"""Question datasets: the files qcapp ships, their readers and writers, and how they were made.

``starter.csv`` is the dataset a fresh installation trains on and ``out_of_scope.csv`` the inputs
the scope check learns to refuse (README.md here tells how both were written).
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
STARTER_DATASET_PATH = FOLDER / "starter.csv"
OUT_OF_SCOPE_PATH = FOLDER / "out_of_scope.csv"
