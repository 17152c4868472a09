"""How good a model and its labels are: evaluation metrics, flips between two versions, labels
that look wrong and near-duplicates, nearest labelled questions, answers that do not survive
leaving a word out, and each class's most typical questions."""
