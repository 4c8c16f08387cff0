"""Contact details: email addresses, and phone numbers that a phone network
would accept.

Presidio's PhoneRecognizer runs phonenumbers' matcher over the whole text
once per region, which is its most expensive recognizer. Here a regex finds
runs of 7 to 15 digits (with the usual separators), and phonenumbers only
validates those candidates, trying the policy's regions in turn (or none for
numbers in international form). Written without a country code, a number
should also be grouped as its region writes numbers (libphonenumber's strict
grouping): "1234 5678 90" and "987-65-4321" are valid digit strings somewhere
but not written as phone numbers are, so like bare digit runs they count only
next to a phone word or in a phone column (whose numbers may come from
regions the policy does not list).

Three layouts count without a region check. A number in international form
("+420 601 123 456", or with the 00 prefix as dialled in Europe) only has to
fit its country's plan. A number in national form from a region the policy
does not list ("0699 829 80 31", "(02) 9374 4000", "08-123 456 78") is known
by its shape: a leading trunk 0, then groups of digits, 9 to 11 digits in
all. That shape is cheap to test and rare in other numbers (prices, order
numbers and ISBNs do not start with a 0 group; dates are ruled out first).
Other grouped digits ("601 123 456") keep the weak score: a phone word decides.

The per-region checks (is_valid_number and the strict-grouping matcher) run in
rphonenumbers, libphonenumber's Rust port behind phonenumbers' API, about 7x
faster and in agreement with phonenumbers on 75,000 distinct candidates of
this recognizer (benchmarks/RESULTS.md); numbers in international form stay
with phonenumbers, where the two differ on a few country plans.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers
import regex
import rphonenumbers
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from ingestguard.detectors.recognizers.spec import RecognizerSpec

MIN_DIGITS = 7
# A bare digit run, or a number grouped as no listed region writes it: below
# the default phone threshold (0.4) alone, over it with a context word (+0.35).
WEAK_SCORE = 0.3
REGIONS = ("US", "GB", "CA", "DE", "FR", "IN", "IL", "BR")
# Not glued to a longer token by "-" or "." (UUIDs, versions, part numbers);
# an extension written onto the number ("212-867-5309x123") belongs to it
# ("ext 9" after a space is a context word instead).
_EXTENSION = r"(?:x\d{1,5})"
# A line's label may follow the number after a hyphen ("781-618-4959-Fax").
_LINE_LABEL = r"(?i:office|fax|home|work|mobile|cell|main|direct)\b"
CANDIDATE = rf"(?<![\w+])(?<!\w[-.])\+?\(?\d(?:[ \t().\-/]{{0,2}}\d){{6,14}}{_EXTENSION}?(?!\w)(?![-.](?!{_LINE_LABEL})\w)"
# Digit runs that are addresses and dates, not phone numbers.
_IPV4_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE_SHAPE = re.compile(
    r"(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}|(?<!\d)\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d{2}(?!\d)"
)
_EXTENSION_TAIL = re.compile(rf"{_EXTENSION}$", re.IGNORECASE)
# National form with a trunk 0: "0699 829 80 31", "(02) 9374 4000", "06-12345678";
# and the French pairs written with dots, "01.23.45.67.89".
_TRUNK_LAYOUT = re.compile(
    r"(?:\(0\d{1,4}\) ?|0[1-9]\d{0,4}[ \-/])\d{2,8}(?:[ \-]\d{2,8}){0,3}|0[1-9](?:\.\d{2}){4}"
)
_TRUNK_DIGITS = range(9, 12)
# Digits in groups with one kind of separator, 8 to 12 in all ("601 123 456",
# "12 34 56 78"): a number from a region the policy does not list, or an order
# number; kept at the weak score, so it counts only next to a phone word.
_GROUPED_DIGITS = re.compile(r"\d{2,3}([ \-.])\d{2,8}(?:\1\d{2,8}){0,3}")
_GROUPED_DIGIT_COUNT = range(8, 13)
# "my number is ...": "number" alone is no phone word (order, card, account
# number), but someone's own number is.
_OWN_NUMBER = re.compile(r"\b(?:my|your|his|her|our|their)\s+number(?:\s+is)?\s*:?\s*$", re.IGNORECASE)
# The North American layout, (212) 555-0100 or 212-555-0100, with an area code
# that starts with 2-9 as all do: accepted when the plan could hold the number,
# so the fictional 555 range counts too.
_NANP_LAYOUT = re.compile(r"(?:\+?1[ .\-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .\-])\d{3}[ .\-]\d{4}")
_CANDIDATE = regex.compile(CANDIDATE, regex.IGNORECASE | regex.MULTILINE | regex.DOTALL)
_SPACES = re.compile(r"\s+")
# +1 and ten digits in any grouping: a length the North American plan allows.
_NANP_POSSIBLE = re.compile(r"\+1(?:[ \t().\-/]*\d){10}")
# RE2 superset of CANDIDATE, for column sweeps.
PREFILTER = r"\b\d(?:[\s().\-/]{0,2}\d){6,}"


class CheckedEmailRecognizer(EmailRecognizer):
    """Presidio's email pattern, with two changes.

    The domain ends at its alphabetic top-level label, so an address glued to
    what follows ("john@acme.com123-45-6789") is still found; Presidio's pattern
    runs on into the digits and then fails its suffix check. And a suffix that
    the public list does not know (an intranet's `.corp`, a new `.italia`) keeps
    a score just under the default threshold instead of dropping the address:
    a known suffix makes it certain; an unknown one counts next to a mail word
    or in an email column, since code writes the same shape (`x@self.weight`).
    """

    CONTEXT = ["email", "mail"]
    UNKNOWN_SUFFIX_SCORE = 0.4

    PATTERNS = [
        Pattern(
            "email address",
            r"(?<![!#$%&'*+\-/=?^_`{|}~.\w])[!#$%&'*+\-/=?^_`{|}~\w](?:[!#$%&'*+\-/=?^_`{|}~.\w]*"
            # Labels with their dots, possessive: no backtracking over long domains.
            r"[!#$%&'*+\-/=?^_`{|}~\w])?@(?:\w+(?:-+\w+)*\.(?=\w))++"
            r"(?:xn--[a-z0-9\-]{2,59}|[^\W\d_]{2,63})(?![^\W\d_]|-\w|\.\w)",
            UNKNOWN_SUFFIX_SCORE,
        )
    ]

    def __init__(self) -> None:
        super().__init__(context=self.CONTEXT, name="CheckedEmailRecognizer")
        # Addresses are mostly distinct, their domains are not: look each up once.
        self._known_suffix = functools.lru_cache(maxsize=65_536)(super().validate_result)

    def validate_result(self, pattern_text: str) -> bool | None:
        # The domain alone: a local part in another script confuses the suffix lookup.
        return True if self._known_suffix(pattern_text.rsplit("@", 1)[-1]) else None


class PhoneNumberRecognizer(PatternRecognizer):
    CONTEXT = [
        "phone",
        "telephone",
        "telefon",
        "telefoon",
        "tel",
        "cell",
        "cellphone",
        "mobile",
        "mob",
        "call",
        "ring",
        "dial",
        "reach",
        "contact",
        "landline",
        "hotline",
        "sms",
        "fax",
        "msisdn",
        "whatsapp",
        "ext",
        "extension",
        "office",
        "message",
    ]

    def __init__(self, regions: tuple[str, ...] = REGIONS) -> None:
        self.regions = regions
        # Columns repeat numbers: validate each distinct candidate once.
        self._valid = functools.lru_cache(maxsize=65_536)(self._valid)
        self._grouped = functools.lru_cache(maxsize=65_536)(self._grouped)
        self._valid_in = functools.lru_cache(maxsize=65_536)(self._valid_in)
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=[Pattern("phone digits", CANDIDATE, 0.4)],
            context=self.CONTEXT,
            name="PhoneNumberRecognizer",
        )
        self._metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Presidio's interface to `find_spans`, every candidate judged."""
        return [
            RecognizerResult("PHONE_NUMBER", start, end, score, recognition_metadata=self._metadata)
            for start, end, score in self.find_spans(text)
        ]

    def find_spans(
        self, text: str, keep: Callable[[int, int, float], bool] | None = None
    ) -> list[tuple[int, int, float]]:
        """(start, end, score) of the phone numbers in `text`.

        A bare run of digits, or a number grouped as no region writes it, is as
        likely an order, account or ID number: it needs a context word ("phone",
        "call", a column named `msisdn`, "my number is") to count.

        `keep(start, end, score)` (from the sweep) says whether a result would be
        reported; a candidate no answer of the validators could make reported
        (a weak digit run with no phone word near it, a number inside a surer
        finding such as an SSN or a card) is skipped before they run. Without
        `keep` every candidate is judged, as Presidio's `analyze` does.
        """
        out = []
        for m in _CANDIDATE.finditer(text):
            start, end = m.span()
            found = text[start:end]
            if not _plausible(_EXTENSION_TAIL.sub("", found)):
                continue
            if found.isdigit():
                own = bool(_OWN_NUMBER.search(text[max(0, start - 30) : start]))
                score = self.patterns[0].score if own else WEAK_SCORE
                if (keep and not keep(start, end, score)) or not self._valid(found):
                    continue
                out.append((start, end, score))
                continue
            if keep and not (
                keep(start, end, self.patterns[0].score)
                or any(keep(start, start + cut, self.patterns[0].score) for cut in _cuts(found))
            ):
                continue
            if not self._valid(found):
                continue
            score = self.patterns[0].score
            if not self._grouped(found):
                # The candidate pattern may run a number into the next one
                # ("030 12345678 030 98765432"): a grouped start still counts.
                head = self._grouped_head(found)
                if head:
                    end = start + head
                else:
                    own = bool(_OWN_NUMBER.search(text[max(0, start - 30) : start]))
                    score = self.patterns[0].score if own else WEAK_SCORE
            if keep and not keep(start, end, score):
                continue
            out.append((start, end, score))
        return out

    def invalidate_result(self, pattern_text: str) -> bool:
        """Drop candidates no region's numbering plan accepts. A valid number keeps
        the pattern's modest score: many digit runs are valid somewhere, so an
        overlapping SSN, card or IP finding should win."""
        return not self._valid(pattern_text.strip())

    def _grouped(self, text: str) -> bool:
        text = _EXTENSION_TAIL.sub("", text)
        if text.startswith(("+", "00")) or _NANP_LAYOUT.fullmatch(text) or _trunk_layout(text):
            return True
        return any(self._valid_in(text, region) and _grouped_as_in(text, region) for region in self.regions)

    def _grouped_head(self, text: str) -> int:
        """Length of the longest start of `text`, cut at a space, that is a valid
        number grouped as its region writes it; 0 if none."""
        for cut in reversed(_cuts(text)):
            head = text[:cut]
            if self._valid(head) and self._grouped(head):
                return cut
        return 0

    def _valid(self, text: str) -> bool:
        text = _EXTENSION_TAIL.sub("", text)
        if not _plausible(text):
            return False
        if text.startswith(("+", "00")):
            # In international form, a number the plan could hold (such as the
            # fictional +1-555 range) is a phone number for a guard's purposes.
            number = "+" + text.lstrip("+")[2 * text.startswith("00") :]
            if _NANP_POSSIBLE.fullmatch(number):
                return True
            return _parses(number, None, phonenumbers.is_possible_number)
        if _NANP_LAYOUT.fullmatch(text):
            # Ten digits after an optional 1: the length the plan allows
            # (what phonenumbers' is_possible_number checks for +1).
            return True
        if _trunk_layout(text) or (
            _GROUPED_DIGITS.fullmatch(text) and sum(map(str.isdigit, text)) in _GROUPED_DIGIT_COUNT
        ):
            return True
        return any(self._valid_in(text, region) for region in self.regions)

    def _valid_in(self, text: str, region: str) -> bool:
        """is_valid_number for `text` read in `region` (rphonenumbers)."""
        try:
            return rphonenumbers.is_valid_number(rphonenumbers.parse(text, region))
        except rphonenumbers.NumberParseException:
            return False


def _plausible(text: str) -> bool:
    """The cheap rejections: too few digits, an IPv4 address, a date, a version."""
    if (
        sum(map(str.isdigit, text)) < MIN_DIGITS
        or _IPV4_SHAPE.fullmatch(text)
        or _DATE_SHAPE.search(text)
    ):
        return False
    # A version number such as 74.0.3729.131.
    return not ("." in text and any(len(g) == 1 for g in re.split(r"\D+", text.strip("+("))[1:]))


def _cuts(text: str) -> list[int]:
    """Where `text` could end early: the start of each run of spaces."""
    return [m.start() for m in _SPACES.finditer(text)]


def _trunk_layout(text: str) -> bool:
    return bool(_TRUNK_LAYOUT.fullmatch(text)) and sum(map(str.isdigit, text)) in _TRUNK_DIGITS


def _parses(text: str, region: str | None, check: Callable[[phonenumbers.PhoneNumber], bool]) -> bool:
    try:
        return check(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return False


def _grouped_as_in(text: str, region: str) -> bool:
    """Whether the digit groups as written are ones the region's own formats
    use (phonenumbers' matcher at strict grouping, on the candidate alone)."""
    return any(
        m.start == 0 and m.end == len(text)
        for m in rphonenumbers.PhoneNumberMatcher(
            text, region, leniency=rphonenumbers.Leniency.STRICT_GROUPING
        )
    )


SPECS: list[RecognizerSpec] = [
    RecognizerSpec("EMAIL_ADDRESS", CheckedEmailRecognizer, r"@"),
    RecognizerSpec("PHONE_NUMBER", PhoneNumberRecognizer, PREFILTER),
]
