"""Hand-written question cues: wh-word, the words after it, the focus head noun, word shapes."""

from __future__ import annotations

import re

from training.question_features.lexicon import answer_type
from training.question_features.text import untokenise

WH_WORDS = frozenset(
    {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
)
# Imperatives that ask for an entity the way a wh-word does ("Name a flower ...").
IMPERATIVES = frozenset({"name", "list", "give", "tell", "define", "describe", "identify"})
# Two-word openings that fix the answer type on their own.
COMPOUND_WH = frozenset(
    {
        "how many", "how much", "how far", "how long", "how old", "how big", "how tall",
        "how high", "how fast", "how hot", "how cold", "how large", "how deep", "how wide",
        "how often", "how heavy", "how late", "how early", "how come", "how do", "how does",
        "how did", "how can", "how is", "how are", "how was", "what year", "what time",
        "what day", "what month", "what date", "what century", "what percentage",
        "what percent", "what country", "what city", "what state",
    }
)
AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "'s", "be", "been", "has", "have", "had"}
)
DO_VERBS = frozenset(
    {"do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might"}
)
DETERMINERS = frozenset(
    {
        "the", "a", "an", "this", "that", "these", "those", "some", "any", "one", "two",
        "three", "four", "five", "ten", "all", "every", "each", "me", "us", "of", "his", "her",
        "its", "their", "our", "my", "your", "most", "best", "first", "last",
    }
)
# Words that end the focus noun phrase.
PHRASE_END = frozenset(
    {
        "of", "in", "on", "at", "for", "to", "from", "by", "with", "about", "into", "as",
        "that", "which", "who", "whom", "whose", "where", "when", "and", "or", "than",
        "is", "are", "was", "were", "'s", "do", "does", "did", "has", "have", "had", "can",
        "could", "will", "would", "should", "be", "been", "being", "used", "called", "made",
        "named", "known", "said", "if", "after", "before", "during", "between", "under",
        "over", "through", "like", "not",
    }
)
# "What kind of dog": the real focus follows the "of".
OF_NOUNS = frozenset(
    {
        "kind", "kinds", "type", "types", "sort", "sorts", "name", "names", "breed", "form",
        "variety", "species", "brand", "make", "model", "genre", "style", "class", "family",
        "group", "member", "piece", "part", "example", "title", "term", "word",
    }
)
# Modifiers that often precede the focus noun without an auxiliary ("Which famous river ...").
MODIFIERS = frozenset(
    {
        "famous", "large", "big", "small", "new", "old", "former", "popular", "common", "major",
        "great", "other", "native", "american", "english", "french", "british", "german",
        "italian", "japanese", "chinese", "spanish", "russian", "european", "african",
        "asian", "canadian", "mexican", "indian", "greek", "roman", "u.s.", "us", "world",
    }
)
# Acronym cues count this many times a plain cue: a few dozen training questions carry them,
# too few for a unit weight to outvote the words "what is" (chosen on a fixed split).
ACRONYM_WEIGHT = 4.0
DOTTED_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
# Dotted acronyms ("U.S.") and hyphenated words ("man-made") stay one token.
_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:'[a-z]+)?|'[a-z]+|[^\sA-Za-z0-9]"
)
MAX_PHRASE = 4


def _tokens(text: str) -> list[str]:
    """Tokens of untokenised text, keeping clitics like 's as separate tokens."""
    return _TOKEN.findall(untokenise(text).replace("'s ", " 's "))


def _focus_phrase(words: list[str], start: int, owned: bool = False) -> list[str]:
    """The noun phrase starting at `start`, after skipping determiners, up to a phrase end.

    With ``owned`` the phrase continues after a possessive: "What is Tom's dog?" asks for a
    dog. Right after the wh-word it is the owner that is asked for ("What company's logo is
    ...?" wants a company), so the phrase ends there."""
    position = start
    while position < len(words) and words[position] in DETERMINERS:
        position += 1
    phrase: list[str] = []
    while position < len(words) and len(phrase) < MAX_PHRASE:
        word = words[position]
        if word == "'s" and phrase and owned:
            following = words[position + 1] if position + 1 < len(words) else ""
            if following in DETERMINERS or not following[:1].isalnum():
                break  # "is", as in "What river's the longest?"
            # A possessive names the owner; the focus is what follows ("Tom's dog").
            return _focus_phrase(words, position + 1, owned) or phrase
        if word in PHRASE_END or not word[0].isalnum():
            break
        phrase.append(word)
        position += 1
    if phrase and phrase[-1] in OF_NOUNS and position < len(words) and words[position] == "of":
        inner = _focus_phrase(words, position + 1, owned)
        if inner:
            return inner
    return phrase


def find_wh(words: list[str]) -> tuple[str, int]:
    """The question word (or imperative) and its position; ('none', -1) when absent."""
    for position, word in enumerate(words[:8]):
        if word in WH_WORDS:
            return word, position
    if words and words[0] in IMPERATIVES:
        return words[0], 0
    return "none", -1


def _is_modifier(word: str, names: frozenset[str] = frozenset()) -> bool:
    """True for words that usually modify the focus noun rather than being it: listed
    modifiers, superlatives, hyphenated compounds ("man-made") and the question's names and
    numbers ("What London museum ...", "What 1976 film ...")."""
    return (
        word in MODIFIERS
        or (word.endswith("est") and len(word) > 4)
        or "-" in word
        or word in names
    )


def _compound_head(phrase: list[str]) -> str:
    """The head of a noun compound: "television network" is a network, "tennis term" a term.
    Without part-of-speech tags, a following word counts as the head when the lexicon knows it
    as one."""
    head = phrase[0]
    for word in phrase[1:]:
        if answer_type(word) is None:
            break
        head = word
    return head


def head_noun(
    words: list[str], wh: str, position: int, names: frozenset[str] = frozenset()
) -> str | None:
    """Head word of the question focus: 'county' in 'What county is ...', 'far' in 'How far'.

    ``names`` holds the lower-cased words written capitalised or as numbers after the first."""
    after = words[position + 1 :] if position >= 0 else []
    if not after:
        return None
    if wh == "how":
        return after[0] if after[0][0].isalnum() else None
    if wh in IMPERATIVES or wh in {"what", "which", "whose"}:
        start = 0
        if wh in {"what", "which"} and after[0] in AUXILIARIES:
            start = 1
        elif after[0] in DO_VERBS:
            return None
        phrase = _focus_phrase(after, start, owned=start == 1)
        if not phrase:
            return None
        if start == 0 and wh in {"what", "which", "whose"}:
            # Without an auxiliary the noun comes right after the wh-word; later words are
            # usually the verb ("Which river flows ..."), so stop after the modifiers.
            for index, word in enumerate(phrase):
                if not _is_modifier(word, names):
                    return _compound_head(phrase[index:])
        return phrase[-1]
    return None


def _shape(token: str) -> str:
    """Coarse word shape: digits, ALLCAPS, Capitalised or lower."""
    if token.isdigit():
        return "digits"
    if any(ch.isdigit() for ch in token):
        return "mixed_digits"
    if len(token) > 1 and token.isupper():
        return "allcaps"
    if token[0].isupper():
        return "capitalised"
    return "lower"


def question_cues(text: str) -> dict[str, float]:
    """Binary cue features of one question, keyed 'name=value'."""
    original = _tokens(text)
    words = [token.lower() for token in original]
    wh, position = find_wh(words)
    next_words = [w for w in words[position + 1 : position + 3]] if position >= 0 else []
    cues = {f"wh={wh}": 1.0, f"first={words[0] if words else ''}": 1.0}
    if next_words:
        cues[f"wh+1={wh}_{next_words[0]}"] = 1.0
        compound = f"{wh} {next_words[0]}"
        if compound in COMPOUND_WH:
            cues[f"compound={compound}"] = 1.0
    if len(next_words) > 1:
        cues[f"wh+2={wh}_{next_words[0]}_{next_words[1]}"] = 1.0
    names = frozenset(token.lower() for token in original[1:] if _shape(token) != "lower")
    head = head_noun(words, wh, position, names)
    if head is not None:
        cues[f"head={head}"] = 1.0
        cues[f"wh_head={wh}_{head}"] = 1.0
        if len(head) > 4:
            cues[f"head_suffix={head[-3:]}"] = 1.0
        # The lexicon groups heads by answer type, so rare heads share evidence.
        expected = answer_type(head)
        if expected is not None:
            cues[f"type={expected}"] = 1.0
            cues[f"type_coarse={expected.split(':', 1)[0]}"] = 1.0
    for index, token in enumerate(original):
        if token[0].isalnum() and (index > 0 or _shape(token) in {"digits", "allcaps"}):
            cues[f"shape={_shape(token)}"] = 1.0
    cues.update(casing_cues(text, original, wh, position))
    return cues


def _acronyms(text: str, original: list[str]) -> list[str]:
    """All-caps words of two or more letters and dotted acronyms ("U.S.", "N.A.S.A.")."""
    found = [token for token in original if _shape(token) == "allcaps" and token.isalpha()]
    return found + DOTTED_ACRONYM.findall(text)


def casing_cues(text: str, original: list[str], wh: str, position: int) -> dict[str, float]:
    """What case and shape say before lower-casing loses it: acronyms (an expansion is often
    asked: "What is SAP?" is ABBR:exp), capitalised names, numbers, the focus word's shape."""
    cues: dict[str, float] = {}
    acronyms = _acronyms(untokenise(text), original)
    if acronyms:
        cues["acronym"] = ACRONYM_WEIGHT
        if any("." in acronym for acronym in acronyms):
            cues["acronym=dotted"] = 1.0
    words = [token for token in original[position + 1 :] if token[0].isalnum()]
    if position >= 0 and words:
        start = 1 if words[0].lower() in AUXILIARIES and len(words) > 1 else 0
        focus = words[start:]
        cues[f"focus_shape={wh}_{_shape(focus[0])}"] = 1.0
        # "What is NASA?": the whole question is a wh-word, a verb and one acronym.
        if len(focus) <= 2 and acronyms and all(_shape(w) == "allcaps" for w in focus[:1]):
            cues[f"only_acronym={wh}"] = ACRONYM_WEIGHT
        if len(focus) <= 3 and all(_shape(w) == "capitalised" for w in focus):
            cues[f"only_name={wh}"] = 1.0
    names = sum(1 for token in original[1:] if _shape(token) == "capitalised")
    if names:
        cues[f"names={min(names, 3)}"] = 1.0
    numbers = sum(1 for token in original if _shape(token) in {"digits", "mixed_digits"})
    if numbers:
        cues[f"numbers={min(numbers, 2)}"] = 1.0
    return cues
