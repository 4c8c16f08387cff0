"""Street addresses, postal codes, dates of birth and ages.

Each needs a shape that plain numbers and dates do not have: a house number
followed by a street-type word, a ZIP code right after a state, a UK
postcode's fixed letter-digit pattern, or a date or number next to the words
that say it is a birth date or an age. A bare 5-digit number or a bare date
is never reported: datasets are full of them.

Addresses are written in many national layouts (the house number before or
after the street, the postal code before or after the town), so a street line
is recognised in each of them, and a street line followed by a town and its
postal code is reported as one block. Postal codes of other countries are
mostly bare digits: they count after the word that names them, in a postal
code column, or where an address puts them.
"""

from __future__ import annotations

import re
from datetime import date

from presidio_analyzer import Pattern, PatternRecognizer

from ingestguard.detectors.recognizers.spec import RecognizerSpec

DATE = r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2} [A-Za-z]{3,9} (?:19|20)\d{2}|[A-Za-z]{3,9} \d{1,2},? (?:19|20)\d{2})"
_BIRTH = r"(?:date of birth|birth ?date|birthday|born(?: on)?|d\.?o\.?b\.?)"


# Street types that make "number, name, type" an address on their own; the
# rarer USPS suffixes below ("Pines", "Rapids", "Forges") also name plenty of
# other things, so alone they need a nearby address word or a town after them.
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|"
    "parkway|pkwy|highway|hwy|square|sq|circle|cir|trail|trl|close|crescent|cres|grove|row|mews|hill|"
    "parade|esplanade|gardens|alley|plaza|broadway|expressway|freeway|turnpike|stravenue"
)
_RARE_STREET_TYPES = (
    "branch|bridge|brooks?|burgs?|bypass|camp|canyon|cape|causeway|centers?|circles|cliffs?|club|commons?|"
    "corners?|course|courts|coves?|creek|crest|crossing|crossroad|curve|dale|dam|divide|drives|estates?|"
    "extensions?|falls?|ferry|ferries|fields?|flats?|fords?|forest|forges?|forks?|fort|garden|gateway|"
    "glens?|greens?|groves|harbors?|haven|heights|hills|hollow|inlet|islands?|isle|junctions?|keys?|"
    "knolls?|lakes?|land|landing|lights?|loaf|locks?|lodge|loop|mall|manors?|meadows?|mills?|mission|"
    "motorway|mount|mountains?|neck|orchard|oval|overpass|parks?|parkways|pass|passage|path|pike|pines?|"
    "plains?|points?|ports?|prairie|radial|ramp|ranch|rapids?|rest|ridges?|rise|river|roads|route|rue|"
    "run|shoals?|shores?|skyway|springs?|spurs?|squares|station|stream|streets|summit|throughway|trace|"
    "track|trafficway|tunnel|underpass|unions?|valleys?|via|viaduct|views?|villages?|ville|vista|walks?|"
    "wall|ways|wells?"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    "NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|AS|GU|MP|PR|VI|AA|AE|AP"
)
_AU_STATES = "NSW|VIC|QLD|SA|WA|TAS|NT|ACT"
_CA_PROVINCES = "AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT"
# Words that never make up a street name: "drove 10 miles down the road".
_STOP = (
    "the|a|an|on|in|at|of|to|and|or|for|with|from|by|into|onto|down|up|along|across|past|through|near|"
    "off|over|under|my|your|his|her|our|their|its|this|that|is|are|was|were|per|than|more|less|about"
)
# Edges of a postal code or a house number: not inside a longer number, word,
# decimal, price or path, nor the kept tail of a masked value ("******0147").
_NUM_START = r"(?<![\w$€£.,/\-*])"
_NUM_END = r"(?![\w\-]|[.,/][0-9])"
_HOUSE = r"\d{1,6}[A-Za-z]?(?:[/\-]\d{1,5}[A-Za-z]?)?"
# The word's letters are taken whole (possessive): a shorter take would leave
# a word char next, where only ".", " " or the street type can follow.
_NAME_WORD = rf"(?:\d{{1,3}}(?:st|nd|rd|th)|(?!(?i:{_STOP})\b)[A-Za-zÀ-ÿ][\w'’\-]{{0,40}}+\.?)"
_CAPITAL_WORD = r"[A-ZÀ-Þ][\w'’.\-]{0,40}"
# "Nieuw-Vennep", "Lázně Bohdaneč", "Frankfurt am Main", "North Samanthamouth", "SYDNEY".
_TOWN = (
    rf"{_CAPITAL_WORD}(?:[ \t](?:{_CAPITAL_WORD}|am|an|der|de|la|le|sur|upon|on|im|bei|di|del|du|en)){{0,3}}"
)
_UNIT = r"(?:Flat|Apartment|Apt\.?|Unit|Suite|Ste\.?|Studio|Level|Shop|Room|Lot)"

# Postal code shapes: CA A1A 1A1; NL 2151 DK (not a unit or era such as
# "4096 MB", "1999 AD"); digits by country, longest first.
_CA_CODE = r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d"
_NL_CODE = (
    r"[1-9]\d{3} ?(?!SA|SD|SS|MB|KB|GB|TB|PB|AM|PM|BC|AD|CE|HP|KW|MW|GW|KG|KM|CM|MM|ML|MG|HZ|PS|EU|US|UK|OK|CC|"
    r"AC|DC|TV|PC|ID|VS|LB|OZ|FT|XL)[A-Z]{2}"
)
_DIGIT_CODE = (
    r"\d{5}-\d{4}|\d{5}-\d{3}|\d{5}|\d{4}-\d{3}|\d{3}-\d{4}|\d{3} \d{3}|\d{3} \d{2}|\d{2}-\d{3}|\d{6}|\d{4}"
)
_UK_CODE = r"(?:GIR 0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNPR-Y\d]? ?\d[ABD-HJLNP-UW-Z]{2})"
# The words that name a postal code, right before it ("PLZ 10115", "PSČ 533 41").
# After a ZIP word, a US-shaped code stays US_ZIP_CODE's.
_POSTAL_WORDS = r"(?i:postal[ \-]?code|post[ \-]?code|postcode|plz|code postal|postnummer|postleitzahl|psč|cep|pin[ \-]?code)"
_ZIP_WORDS = r"(?i:zip(?:[ \-]?code)?)"
# Between such a word and its code: "PLZ 10115", "postcode: 2000", "zip code is 2000".
_WORD_GAP = r"[^\w\n]{0,3}(?:(?i:is|of) )?"
_US_ZIP = r"\d{5}(?:-\d{4})?"

# Any word of a street name, whole: the chars of _CAPITAL_WORD, at most 42
# (41 and a trailing dot).
_ANY_WORD = r"[\w'’.\-]{1,42}+"
# A street line in the layouts people write.
_STREETS = {
    # US, UK, AU: "742 Evergreen Terrace", "4831 SMITH ROAD", "Flat 3, 14 Baker Street", "Unit 4/12 Smith St".
    "common": (
        rf"(?:{_UNIT} ?\d{{1,5}}[A-Za-z]?(?:,?[ \t]+|,?[ \t]*\n[ \t]*|/)|{_NUM_START}){_HOUSE}"
        rf" (?:{_NAME_WORD} ){{1,4}}(?i:{_STREET_TYPES})\b\.?"
    ),
    "rare": rf"{_NUM_START}{_HOUSE} (?:{_NAME_WORD} ){{1,4}}(?i:{_RARE_STREET_TYPES})\b",
    # Number after the name: "Hauptstraße 12", "Kerkstraat 5A", "Karl Johans gate 22", "Storgatan 14".
    # The type as a word of its own follows a name ("Lange Straße 5"); the
    # Scandinavian ones are written in lower case, so "Departure Gate 22" is not one.
    "number after": (
        # Cheap test first: a capital, one to four words, then ",? " and a
        # digit (each word taken whole, possessive and bounded, so a long run
        # of letters costs at most 42 steps). Most capitals fail it at once.
        rf"(?=[A-ZÀ-Þ][\w'’.\-]{{0,41}}+(?: {_ANY_WORD}){{0,3}},? \d)"
        # The word is taken whole (possessive) and its ending checked behind it:
        # trying every split of a long run of letters would be quadratic.
        rf"(?:(?:{_CAPITAL_WORD} ){{0,3}}[A-ZÀ-Þ][\w'’\-]{{0,40}}+(?<=(?i:straße|strasse|str|weg|gasse|platz|allee|"
        r"laan|straat|gracht|plein|singel|kade|dijk|gatan|vägen|gränd|torget|gata|gade|vej|veien|vei|veg|stræde))\.?"
        rf"|(?:{_CAPITAL_WORD} ){{1,3}}(?:Straße|Strasse|Weg|Gasse|Platz|Allee|gate|gata|gatan|vej|vei|veien)),? "
        rf"{_HOUSE}{_NUM_END}"
    ),
    # Type first, number last: "Rue de Rivoli 10", "Via Roma, 12", "Nám. Míru 1034/7", "ul. Długa 5".
    "type first": (
        r"\b(?:Rue|Avenue|Boulevard|Chemin|Allée|Impasse|Quai|Via|Viale|Piazza|Piazzale|Corso|Vicolo|Calle|"
        r"Avenida|Paseo|Carrer|Rua|Praça|Travessa|Largo|(?i:ulica|ulice|ul\.|náměstí|nám\.|nábřeží|třída|tř\.))"
        rf"(?: (?:de|du|des|del|della|dei|di|da|do|dos|das|la|le|les|(?:d'|l')?[A-ZÀ-Þ0-9][\w'’\-.]{{0,40}})){{1,4}},? "
        rf"{_HOUSE}{_NUM_END}"
    ),
    # A flat with a named street and no number (UK): "Flat 3\nJones Mews".
    "flat": (
        rf"\b{_UNIT} \d{{1,5}}[A-Za-z]?(?:,[ \t]*|[ \t]*\n[ \t]*)(?:{_CAPITAL_WORD} ){{1,3}}"
        rf"(?i:{_STREET_TYPES}|{_RARE_STREET_TYPES})\b"
    ),
    # French, number first: "10, rue de Rivoli", "97 avenue des Champs-Élysées".
    "french": (
        rf"{_NUM_START}{_HOUSE}(?: ?(?:bis|ter))?,? (?i:rue|avenue|boulevard|bd|chemin|allée|impasse|quai|cours|"
        r"route|passage|voie|sentier)(?: (?:de la|de|du|des|la|le|les|(?:d'|l')?[A-ZÀ-Þ][\w'’\-]{0,40})){1,4}"
    ),
}
# Every layout starts with a digit, a capital or one of the lower-case Czech
# and Polish type words (ul., nám., tř.): checking that one char first spares
# the six layouts at the other positions of a text, most of it.
_STREET_START = r"(?=[\dA-ZÀ-Þ]|[unt][lLáÁřŘ])"
_STREET = _STREET_START + "(?:" + "|".join(f"(?:{street})" for street in _STREETS.values()) + ")"
_SEP = r"(?:[ \t]*,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
_SECONDARY = r"(?:(?i:apt\.?|apartment|suite|ste\.?|unit|flat|floor|fl\.?|room|rm\.?|bldg\.?|building) ?[\w\-]+|# ?\w+)"
# The last line of an address: a town with its postal code (and state).
_CODE_LINE = (
    rf"{_TOWN},?[ \t]+(?:{_US_STATES})[ \t]+\d{{5}}(?:-\d{{4}})?"
    rf"|{_TOWN},?[ \t]+(?:{_AU_STATES}),?[ \t]+\d{{4}}"
    rf"|{_TOWN},?[ \t]+(?:{_CA_PROVINCES}),?[ \t]+{_CA_CODE}"
    rf"|(?:[A-Z]{{1,2}}-)?(?:{_NL_CODE}|{_DIGIT_CODE})[ \t]+{_TOWN}"
    rf"|(?:{_TOWN}{_SEP})?{_UK_CODE}"
)
_MILITARY = r"(?:PSC \d{3,5},? Box \d{3,5}|Unit \d{3,5},? Box \d{3,5}|(?:USNS|USNV|USS|USCGC) [A-Z][a-z]+)"


class StreetAddressRecognizer(PatternRecognizer):
    """A street line in one of the layouts people write, or a whole address
    block: the street line, maybe a flat or suite, and a last line with the
    town and its postal code ("742 Evergreen Terrace\nSpringfield, OR 97403",
    "Kerkstraat 5\n2151 DK Nieuw-Vennep"), reported as one span so that no
    part of it is left behind."""

    CONTEXT = [
        "address",
        "live",
        "lives",
        "living",
        "located",
        "reside",
        "resides",
        "ship",
        "deliver",
        "street",
    ]

    def __init__(self) -> None:
        super().__init__(
            supported_entity="STREET_ADDRESS",
            patterns=[
                Pattern(
                    "address block",
                    rf"(?:{_STREET})(?:{_SEP}{_SECONDARY})?(?:{_SEP}{_TOWN})??{_SEP}(?:{_CODE_LINE}){_NUM_END}",
                    0.8,
                ),
                Pattern("street line", rf"(?:{_STREETS['common']})(?:,? {_SECONDARY})?", 0.7),
                Pattern(
                    "street line, number after",
                    # Both start with a capital or a lower-case Czech or Polish type word.
                    rf"(?=[A-ZÀ-Þ]|[unt][lLáÁřŘ])(?:(?:{_STREETS['number after']})|(?:{_STREETS['type first']}))",
                    0.7,
                ),
                Pattern("street line, French", _STREETS["french"], 0.7),
                Pattern("street line, rare type", _STREETS["rare"], 0.4),
                Pattern("flat, then street", _STREETS["flat"], 0.6),
                Pattern(
                    "military",
                    rf"\b{_MILITARY}(?:,?[ \t]+|,?[ \t]*\n[ \t]*)(?:APO|FPO|DPO) (?:AA|AE|AP) \d{{5}}\b",
                    0.9,
                ),
                Pattern("military unit and box", r"\b(?:PSC|Unit) \d{3,5},? Box \d{3,5}\b", 0.6),
                Pattern("PO box", r"\b(?i:p\.? ?o\.? box) \d{1,6}\b", 0.6),
            ],
            context=self.CONTEXT,
            global_regex_flags=0,  # street names are capitalized; case matters here
            name="StreetAddressRecognizer",
        )


class PostalCodeRecognizer(PatternRecognizer):
    """Postal codes of any country but the US and UK, whose codes have their
    own recognizers (a US-shaped code after "ZIP" is left to US_ZIP_CODE). A Canadian A1A 1A1 or a Dutch 1234 AB is
    distinctive as written; a run of digits is a postal code only after the
    word that names it ("PLZ 10115"), in a postal-code column, or where an
    address puts it (a line that starts with the code and ends with the town,
    "..., 533 41 Lázně Bohdaneč"; an Australian state before it, "NSW 2000")."""

    CONTEXT = [
        "postal",
        "postcode",
        "postcodes",
        "plz",
        "postleitzahl",
        "postnummer",
        "pincode",
        "cep",
    ]

    def __init__(self) -> None:
        codes = f"{_CA_CODE}|{_NL_CODE}|{_DIGIT_CODE}"
        super().__init__(
            supported_entity="POSTAL_CODE",
            patterns=[
                # The word is matched forwards and \K starts the finding at the code
                # (Presidio takes match.span(), which \K moves): a lookbehind
                # would be tried back from every position of the text. One pass
                # for both words: a postal word and a ZIP word never share text.
                Pattern(
                    "postal or ZIP word then code",
                    rf"\b(?:{_POSTAL_WORDS}\b{_WORD_GAP}\K|{_ZIP_WORDS}\b{_WORD_GAP}\K(?!{_US_ZIP}{_NUM_END}))"
                    rf"(?:{codes}){_NUM_END}",
                    0.7,
                ),
                Pattern("Canadian", rf"\b{_CA_CODE}\b", 0.5),
                Pattern("Dutch", rf"{_NUM_START}{_NL_CODE}\b", 0.5),
                Pattern(
                    "code then town, in an address",
                    rf"[\n,][ \t]*\K(?:{_NL_CODE}|{_DIGIT_CODE}){_NUM_END}(?=[ \t]+{_TOWN}[ \t]*(?:$|[\n,.;)]))",
                    0.6,
                ),
                Pattern("Australian state then code", rf"(?<=\b(?:{_AU_STATES}),? )\d{{4}}{_NUM_END}", 0.6),
                # Digits alone only with a context word or in a postal-code column.
                Pattern("digits", rf"{_NUM_START}(?:{_DIGIT_CODE}){_NUM_END}", 0.3),
            ],
            context=self.CONTEXT,
            global_regex_flags=0,
            name="PostalCodeRecognizer",
        )


class UsZipCodeRecognizer(PatternRecognizer):
    CONTEXT = ["zip", "zipcode", "postal", "postcode"]

    def __init__(self) -> None:
        super().__init__(
            supported_entity="US_ZIP_CODE",
            patterns=[
                Pattern("state then ZIP", rf"(?<=\b(?:{_US_STATES}) )\d{{5}}(?:-\d{{4}})?\b", 0.6),
                # A bare ZIP only with a context word ("ZIP 94105", a `zip` column).
                Pattern("ZIP", r"(?<![\w.,-])\d{5}(?:-\d{4})?(?![\w.,-]\d|\w)", 0.3),
            ],
            context=self.CONTEXT,
            global_regex_flags=0,
            name="UsZipCodeRecognizer",
        )


class CheckedUkPostcodeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="UK_POSTCODE",
            patterns=[
                Pattern(
                    "UK postcode",
                    r"\b(?:GIR 0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNPR-Y\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b",
                    0.6,
                )
            ],
            global_regex_flags=0,
            name="CheckedUkPostcodeRecognizer",
        )


class DateOfBirthRecognizer(PatternRecognizer):
    """A date within a few words after a birth word; the date alone is the finding."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE_OF_BIRTH",
            patterns=[
                Pattern("birth word then date", rf"(?<=\b{_BIRTH}\W{{1,3}}(?:[\w'’]+ ){{0,3}}){DATE}\b", 0.8)
            ],
            name="DateOfBirthRecognizer",
        )


_MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"


class DateTimeRecognizer(PatternRecognizer):
    """Calendar dates in the usual written forms, checked to be real dates.

    Used instead of the NER model's DATE and TIME labels, which also tag
    "tomorrow", clock times and bare digit runs.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=[
                Pattern("ISO date", r"\b(?:19|20)\d{2}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b", 0.6),
                Pattern("numeric date", r"(?<![\d.])\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}(?![\d.])", 0.6),
                Pattern(
                    "month day year",
                    rf"\b(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}\b",
                    0.6,
                ),
                Pattern(
                    "day month year",
                    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})\.?,? (?:19|20)\d{{2}}\b",
                    0.6,
                ),
            ],
            name="DateTimeRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Numeric forms must be a real day of a real month in some order (m/d or d/m)."""
        parts = re.split(r"[/.\-T :]", pattern_text)
        if not all(p.isdigit() for p in parts[:3]):
            return None  # month names: the regex already fixed the shape
        a, b, c = (int(p) for p in parts[:3])
        if len(parts[0]) == 4:
            return _is_date(a, b, c)
        year = c if c >= 100 else 2000 + c
        return _is_date(year, a, b) or _is_date(year, b, a)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# 0 to 130, not glued to a longer number, a decimal or a percentage.
_AGE = r"(?<![\d.,])(?:1[0-2][0-9]|130|[0-9]{1,2})(?![\d%]|[.,][0-9])"
_YEARS = r"(?:years?|yrs?)"
# After "I am N years" comes the end of the clause, not a span of time
# ("I am 5 years into it", "she is 40 years younger").
_CLAUSE_END = r"\s*(?:$|[.,;:!?)\n]|(?:old|of\s+age|and|but|now|today)\b)"
_SUBJECT = r"(?:i\s+am|i'?m|i\s+was|he\s+is|he'?s|he\s+was|she\s+is|she'?s|she\s+was|they\s+are|you\s+are|you'?re|who\s+is|who\s+was)"


class AgeRecognizer(PatternRecognizer):
    """An age is a small number with the words that make it one: "79 years
    old", "79-year-old", "aged 45", "age: 45", "at the age of 12", "I just
    turned 37", "she is 52 years of age". A number of years alone is usually
    a duration ("5 years of experience", "in 3 years"), so it is not enough."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="AGE",
            patterns=[
                Pattern("N years old", rf"\b{_AGE}(?=[ -]{_YEARS}[ -]old\b|\s?y/?o\b)", 0.7),
                Pattern("N years of age", rf"\b{_AGE}(?=[ -]{_YEARS} of age\b)", 0.7),
                Pattern(
                    "aged N / age: N",
                    rf"(?<=\bage(?:d|\s*[:=]|\s+is|\s+of)?\s{{0,2}}){_AGE}\b(?!\s+{_YEARS}\s+ago)",
                    0.7,
                ),
                Pattern(
                    "turned N",
                    rf"(?<=\bturn(?:ed|s|ing)?\s+){_AGE}(?=\s*(?:$|[.,;:!?)]|{_YEARS}\b|(?:this|last|next|today|yesterday|tomorrow|soon|on|in|and)\b))",
                    0.7,
                ),
                Pattern(
                    "I am N years",
                    rf"(?<=\b{_SUBJECT}\s+(?:now\s+|just\s+|only\s+|almost\s+|nearly\s+|about\s+|over\s+)?){_AGE}(?=\s+{_YEARS}{_CLAUSE_END})",
                    0.7,
                ),
                # "Written when he was 21.": a person and a bare number that ends
                # the clause; "I am 5 minutes away" goes on, so it is none.
                Pattern(
                    "I was N.",
                    rf"(?<=\b{_SUBJECT}\s+(?:now\s+|just\s+|only\s+|almost\s+|nearly\s+|about\s+|over\s+)?){_AGE}(?=\s*(?:$|[.,;!?)\n]|(?:and|but|when|then|now|today)\b))",
                    0.6,
                ),
            ],
            name="AgeRecognizer",
        )


# Every POSTAL_CODE pattern but the bare digits: its words (which hold every context
# word), a Canadian or Dutch code, a code after a comma or line break, an Australian state.
_POSTAL_UNBOOSTED = (
    r"(?i:post|plz|psč|cep|pin|zip)|[A-Z]\d[A-Z] ?\d|\d{4} ?[A-Z]{2}|[\n,][ \t]*\d{2}"
    r"|(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT),? \d{4}"
)
SPECS: list[RecognizerSpec] = [
    RecognizerSpec("STREET_ADDRESS", StreetAddressRecognizer, r"\s\d|\d[A-Za-z]?[\s,]|(?i)p\.? ?o\.? box"),
    RecognizerSpec(
        "US_ZIP_CODE",
        UsZipCodeRecognizer,
        r"\b\d{5}",
        unboosted=rf"(?i:zip|post)|(?:{_US_STATES}) \d{{5}}",
        weak_score=0.3,
    ),
    RecognizerSpec("UK_POSTCODE", CheckedUkPostcodeRecognizer, r"[A-Z]\d|GIR 0AA"),
    RecognizerSpec(
        "POSTAL_CODE",
        PostalCodeRecognizer,
        # The bare digits: not glued to a word (RE2's ASCII \w makes [^\w] wider
        # than the recognizer's, so this stays a superset).
        _POSTAL_UNBOOSTED + r"|(?:^|[^\w$€£.,/\-])\d{2}",
        unboosted=_POSTAL_UNBOOSTED,
        weak_score=0.3,
    ),
    RecognizerSpec("DATE_OF_BIRTH", DateOfBirthRecognizer, r"(?i)birth|born|d\.?o\.?b"),
    RecognizerSpec(
        "AGE",
        AgeRecognizer,
        r"(?i)age|years?|yrs?|turn|\dy/?o|\d y/?o|(?:am|'m|is|'s|was|are|'re)\s+\S*\s*\d",
    ),
    RecognizerSpec(
        "DATE_TIME", DateTimeRecognizer, r"\d[/.\-]\d|(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    ),
]
