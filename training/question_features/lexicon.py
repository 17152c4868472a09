"""Hand-written lexicon from focus head nouns (and 'how' words) to likely UIUC answer types."""

from __future__ import annotations

# Each answer type lists head words that usually ask for it. Words are singular, lower case;
# lookups strip a plural ending. A word may appear under one type only.
_TYPES: dict[str, str] = {
    "LOC:city": "city town capital metropolis village hometown municipality suburb port",
    "LOC:country": "country nation republic kingdom empire homeland nationality",
    "LOC:state": "state province county territory region canton",
    "LOC:mount": "mountain mount peak volcano summit range hill",
    "LOC:other": (
        "river lake ocean sea island continent place location desert bay gulf canal "
        "strait waterfall falls valley park street building site spot address planet star "
        "galaxy forest beach cave bridge airport stadium harbor coast peninsula website url"
    ),
    "NUM:date": "year date century day month decade birthday era season anniversary",
    "NUM:count": "number population count amount many",
    "NUM:code": "code zip",
    "NUM:money": "cost price money salary fee budget worth dollar much",
    "NUM:period": "age period long old lifespan duration life",
    "NUM:dist": "distance far length height tall high deep depth wide width mile diameter",
    "NUM:perc": "percentage percent proportion fraction rate share ratio",
    "NUM:speed": "speed fast velocity quickly",
    "NUM:temp": "temperature hot cold degree",
    "NUM:weight": "weight heavy mass ton pound",
    "NUM:volsize": "volume capacity size big large area",
    "HUM:ind": (
        "person man woman president king queen actor actress author writer singer artist "
        "painter poet composer inventor scientist player leader emperor explorer director "
        "philosopher general governor senator wife husband son daughter father mother "
        "character hero villain astronaut pope prophet chancellor minister comedian lawyer "
        "athlete musician host jockey coach architect sculptor novelist playwright cartoonist "
        "boxer golfer pitcher quarterback scoundrel"
    ),
    "HUM:gr": (
        "company team group organization band party corporation university college school "
        "tribe army firm airline club agency manufacturer network committee business"
    ),
    "HUM:title": "title job occupation profession rank position",
    "ENTY:animal": (
        "animal dog cat bird fish breed mammal insect horse snake reptile creature pet "
        "species beast whale shark"
    ),
    "ENTY:plant": "plant flower tree fruit vegetable herb grass weed crop",
    "ENTY:food": "food dish drink beverage wine beer cheese meal dessert candy cereal sauce",
    "ENTY:color": "color colour shade hue",
    "ENTY:dismed": "disease illness sickness cancer virus disorder syndrome infection fear phobia",
    "ENTY:lang": "language tongue dialect",
    "ENTY:sport": "sport game",
    "ENTY:instru": "instrument",
    "ENTY:religion": "religion faith church denomination",
    "ENTY:currency": "currency coin",
    "ENTY:body": "organ bone muscle gland body",
    "ENTY:product": "product car brand computer software drug vehicle",
    "ENTY:cremat": (
        "book novel movie film song play poem opera painting album show series magazine "
        "sculpture statue symphony comic newspaper tv"
    ),
    "ENTY:event": "war battle festival holiday revolution event",
    "ENTY:termeq": "term name nickname synonym",
    "ENTY:word": "word",
    "ENTY:substance": "substance element metal chemical mineral gas material fuel compound",
    "ENTY:techmeth": "method technique way",
    "ENTY:veh": "ship boat plane aircraft train rocket submarine spacecraft",
    "ENTY:symbol": "symbol emblem flag logo",
    "ENTY:letter": "letter",
    "ENTY:other": "award prize medal trophy",
    "DESC:reason": "reason cause purpose why function",
    "DESC:def": "meaning definition",
    "DESC:manner": "manner how",
    "DESC:desc": "origin history difference motto effect",
    "ABBR:abb": "acronym abbreviation",
    "ABBR:exp": "stand expansion",
}

HEAD_TYPES: dict[str, str] = {
    word: answer_type for answer_type, words in _TYPES.items() for word in words.split()
}


def _singular(word: str) -> str:
    """Crude singular form, enough for lexicon lookups ('cities' -> 'city', 'rivers' -> 'river')."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def answer_type(head: str | None) -> str | None:
    """Likely fine answer type for a focus head word, or None when the lexicon has no entry."""
    if not head:
        return None
    word = head.lower()
    return HEAD_TYPES.get(word) or HEAD_TYPES.get(_singular(word))
