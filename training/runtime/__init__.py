"""What serving needs: a stored model version loaded and checked, the classifier that answers
with it (lexical, sentence-encoder or fine-tuned), the ONNX graphs it may hold, and the scope
check. Nothing here imports torch; ONNX Runtime only when a version holds a graph."""
