"""Training the model tiers: the lexical models (with or without model selection), sentence
embeddings beside them, and the fine-tuned network; refits with choices already made, and the
progress of a run over its steps."""
