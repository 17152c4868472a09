"""How a question becomes a row of numbers: text clean-up, hand-written cues and their lexicon,
the TF-IDF and cue extractors and the named feature sets, a fast path for one question's
TF-IDF row, and the rows a training process keeps."""
