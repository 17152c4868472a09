"""The UIUC question taxonomy: 6 coarse and 50 fine classes, the single source of truth."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelInfo:
    """A class of the taxonomy with a readable name and a one-line definition."""

    label: str
    name: str
    definition: str

    @property
    def coarse(self) -> str:
        return self.label.split(":", 1)[0]


COARSE_CLASSES: dict[str, LabelInfo] = {
    info.label: info
    for info in (
        LabelInfo(
            "ABBR", "Abbreviation", "The answer is a short form or what a short form stands for."
        ),
        LabelInfo(
            "DESC",
            "Description",
            "The answer explains: a definition, a description, a manner or a reason.",
        ),
        LabelInfo(
            "ENTY",
            "Entity",
            "The answer names a thing: an animal, a product, a colour, an event and so on.",
        ),
        LabelInfo(
            "HUM",
            "Human",
            "The answer is a person, a group of people, a title or a description of someone.",
        ),
        LabelInfo(
            "LOC",
            "Location",
            "The answer is a place: a city, a country, a mountain, a state or another place.",
        ),
        LabelInfo(
            "NUM",
            "Numeric",
            "The answer is a number: a date, a count, a distance, a price and so on.",
        ),
    )
}

_FINE = (
    ("ABBR:abb", "Abbreviation", "The short form of a longer name is asked for."),
    ("ABBR:exp", "Expansion", "What an abbreviation or acronym stands for."),
    ("DESC:def", "Definition", "What a word, term or thing is; a definition."),
    (
        "DESC:desc",
        "Description",
        "A description of something, other than a definition, manner or reason.",
    ),
    ("DESC:manner", "Manner", "How something is done or happens; a method or process."),
    ("DESC:reason", "Reason", "Why something is so; a cause or explanation."),
    ("ENTY:animal", "Animal", "A kind of animal, or a particular animal."),
    ("ENTY:body", "Body part", "An organ or part of a body."),
    ("ENTY:color", "Colour", "A colour."),
    (
        "ENTY:cremat",
        "Creative work",
        "A book, film, song, painting, show or other invented creation.",
    ),
    ("ENTY:currency", "Currency", "A kind of money used somewhere."),
    ("ENTY:dismed", "Disease or medicine", "An illness, condition, drug or medical treatment."),
    ("ENTY:event", "Event", "A happening: a war, a festival, a disaster, a competition."),
    ("ENTY:food", "Food", "Something eaten or drunk."),
    ("ENTY:instru", "Musical instrument", "An instrument that makes music."),
    ("ENTY:lang", "Language", "A language spoken or written by people."),
    ("ENTY:letter", "Letter", "A letter or character of an alphabet."),
    ("ENTY:other", "Other entity", "A thing that fits none of the other entity classes."),
    ("ENTY:plant", "Plant", "A plant, tree, flower or fungus."),
    ("ENTY:product", "Product", "A manufactured product, brand or model."),
    ("ENTY:religion", "Religion", "A religion, faith or belief system."),
    ("ENTY:sport", "Sport", "A sport or game."),
    ("ENTY:substance", "Substance", "A material, chemical element or compound."),
    ("ENTY:symbol", "Symbol", "A sign, emblem, flag or symbol."),
    ("ENTY:techmeth", "Technique or method", "A named technique, method or technology."),
    ("ENTY:termeq", "Equivalent term", "Another word or name for something; the term for it."),
    ("ENTY:veh", "Vehicle", "A car, ship, aircraft or other vehicle."),
    ("ENTY:word", "Word", "A word with a special property, such as a rhyme or a spelling."),
    ("HUM:desc", "Person description", "A description of a person: who someone is or was."),
    (
        "HUM:gr",
        "Group",
        "A group or organisation of people: a company, team, band or nation's people.",
    ),
    ("HUM:ind", "Individual", "A single named person."),
    ("HUM:title", "Title", "A title, rank or role held by a person."),
    ("LOC:city", "City", "A city or town."),
    ("LOC:country", "Country", "A country or nation."),
    ("LOC:mount", "Mountain", "A mountain, peak or range."),
    (
        "LOC:other",
        "Other location",
        "A place that is not a city, country, mountain or state: rivers, buildings, regions.",
    ),
    ("LOC:state", "State", "A state, province or similar division of a country."),
    ("NUM:code", "Code", "A postal code, phone number, code or other identifying number."),
    ("NUM:count", "Count", "How many of something there are."),
    ("NUM:date", "Date", "A date, year or point in time."),
    ("NUM:dist", "Distance", "A distance, length, height or depth."),
    ("NUM:money", "Price", "A price, cost or sum of money."),
    ("NUM:ord", "Order", "A rank or position in an order (first, third, ...)."),
    ("NUM:other", "Other number", "A number that fits none of the other numeric classes."),
    ("NUM:perc", "Percentage", "A percentage, fraction or share."),
    ("NUM:period", "Period", "A length of time or an age."),
    ("NUM:speed", "Speed", "A speed or rate of movement."),
    ("NUM:temp", "Temperature", "A temperature."),
    ("NUM:volsize", "Size", "A size, area or volume."),
    ("NUM:weight", "Weight", "A weight or mass."),
)

FINE_CLASSES: dict[str, LabelInfo] = {label: LabelInfo(label, name, d) for label, name, d in _FINE}

COARSE_LABELS: tuple[str, ...] = tuple(COARSE_CLASSES)
FINE_LABELS: tuple[str, ...] = tuple(FINE_CLASSES)

# Long coarse names used by the tutorial CSV's Category0 column.
LONG_COARSE_NAMES: dict[str, str] = {
    "ABBR": "ABBREVIATION",
    "DESC": "DESCRIPTION",
    "ENTY": "ENTITY",
    "HUM": "HUMAN",
    "LOC": "LOCATION",
    "NUM": "NUMERIC",
}


def fine_labels_of(coarse: str) -> tuple[str, ...]:
    """Fine labels that belong to one coarse class."""
    return tuple(label for label in FINE_LABELS if label.split(":", 1)[0] == coarse)


def is_valid_pair(coarse: str, fine: str) -> bool:
    """True when both labels exist and the fine label lies inside the coarse one."""
    return coarse in COARSE_CLASSES and fine in FINE_CLASSES and fine.split(":", 1)[0] == coarse


def describe(label: str) -> LabelInfo:
    """The LabelInfo of a coarse or fine label; KeyError when unknown."""
    if ":" in label:
        return FINE_CLASSES[label]
    return COARSE_CLASSES[label]


def as_dict() -> list[dict]:
    """The taxonomy as plain data: coarse classes with their fine classes, for JSON and pages."""
    return [
        {
            "label": c.label,
            "name": c.name,
            "definition": c.definition,
            "fine": [
                {"label": f, "name": FINE_CLASSES[f].name, "definition": FINE_CLASSES[f].definition}
                for f in fine_labels_of(c.label)
            ],
        }
        for c in COARSE_CLASSES.values()
    ]
