"""Model side of qcapp: loading data, features, training, prediction and model artifacts."""
