"""Secrets that leak into training data: cloud keys, tokens, private keys.

One `PatternRecognizer` per entity. Presidio matches with the `regex` module,
so context that must precede a value (a key word, a URL's user name) is
matched and then dropped with `\\K`: only the secret itself is reported.
Global flags are case-sensitive (Presidio's default is IGNORECASE, which
would let `akia...` or `SK_LIVE_` through); case-insensitive parts say so.

Validators, and why they exist:

- Known-prefix tokens (AWS, GitHub, GitLab, Slack, Stripe) are precise by
  format; `validate_result` raises them to 1.0 and rejects only placeholders
  (`AKIAXXXXXXXXXXXXXXXX`, `ghp_xxxx...`): too few distinct characters.
  GitHub's CRC32 checksum is not checked: with no real token to test the
  encoding against, a wrong guess would silently drop every real one.
- AWS_SECRET_KEY: 40 base64 characters are common (SHA-1 hex, paths), so a
  value needs an `aws`/`secret` word earlier on its line, both letter cases
  and high entropy; all-hex values (commit SHAs) are rejected.
- GCP_SERVICE_ACCOUNT_KEY: reports the `private_key_id` value (40 hex) of a
  JSON object whose `"type"` is `"service_account"`: a stable, short span
  that identifies the key. The key material itself is PRIVATE_KEY's finding
  (it matches the PEM inside the JSON string, `\\n` escapes included).
- AZURE_CONNECTION_STRING: the whole `Name=value;...` run; the AccountKey or
  SharedAccessKey must be strict base64 of at least 32 bytes.
- JWT: the header segment must base64url-decode to a JSON object with a
  string `"alg"`, and the payload must be valid base64url.
- PRIVATE_KEY: the PEM/PGP block from BEGIN through END (or through the end
  of the base64 body when the END line was cut off); the body, armor headers
  aside, must be strict base64 of at least 32 bytes (rejects `...` stubs).
- URL_CREDENTIALS (0.9): the password of `scheme://user:password@host`, of a
  URL's `password=` parameter, or of an ADO/ODBC `...;Password=...;` string;
  masked (`****`), templated (`${X}`, `<pw>`, `{{x}}`), placeholder words and
  ingestguard's own pseudonyms are rejected.
- GENERIC_SECRET (0.6): a value of 16+ characters with Shannon entropy of at
  least 3.5 bits per character and two character classes, right after a key
  word (key, token, secret, password, auth, credential...) and `:`, `=` or
  `is`. Dotted names, paths, pseudonyms and masks are rejected, and so are
  identifiers that name something else (`key_id`, `token_url`, `secret_path`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter

from presidio_analyzer import Pattern, PatternRecognizer

from ingestguard.detectors.recognizers.spec import RecognizerSpec

# Presidio compiles with the `regex` module; these flags are shared by all.
FLAGS = re.DOTALL

MIN_ENTROPY = 3.5
MIN_GENERIC_LENGTH = 16

# ingestguard's own pseudonyms (`PERSON_3f9a0c1be2d47a81c0e5`) and masks.
_PSEUDONYM = re.compile(r"[A-Z][A-Z0-9_]*_[0-9a-f]{16,}")
_MASKED = re.compile(r"[*x•#.\-_]+|X+", re.IGNORECASE)
_TEMPLATE = re.compile(r".*(?:\$\{|\{\{|<[^>]*>|%\(|%s).*|\$[A-Za-z_]\w*")
_PLACEHOLDER_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "changeme",
        "change_me",
        "yourpassword",
        "your_password",
        "your-password",
        "mypassword",
        "my_password",
        "redacted",
        "hidden",
        "masked",
        "none",
        "null",
        "example",
    }
)
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)+(?:\(\))?")
_HEX = re.compile(r"[0-9a-fA-F]+")


def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _char_classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def is_placeholder_token(body: str, min_distinct: int = 6) -> bool:
    """`XXXXXXXXXXXXXXXX`, `xxxx...`, `0000...`: documentation stubs, not keys."""
    return len(set(body)) < min_distinct


def _b64decode_strict(data: str, altchars: bytes | None = None) -> bytes | None:
    data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- validators (module level, one per entity where a real check exists) ---

AWS_ACCESS_KEY_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")


def valid_aws_access_key(value: str) -> bool:
    """Known key-id prefix, 20 characters of AWS's base32 alphabet, not a stub."""
    return (
        len(value) == 20
        and value.startswith(AWS_ACCESS_KEY_PREFIXES)
        and re.fullmatch(r"[A-Z0-9]{4}[A-Z2-7]{16}", value) is not None
        and not is_placeholder_token(value[4:])
    )


def valid_aws_secret_key(value: str) -> bool:
    """40 base64 characters that look random: both cases, not hex, entropy >= 4."""
    return (
        len(value) == 40
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and not _HEX.fullmatch(value)
        and shannon_entropy(value) >= 4.0
    )


def valid_gcp_private_key_id(value: str) -> bool:
    return re.fullmatch(r"[0-9a-f]{40}", value) is not None and not is_placeholder_token(value)


def valid_azure_connection_string(value: str) -> bool:
    """The AccountKey / SharedAccessKey is strict base64 of at least 32 bytes."""
    for part in value.split(";"):
        name, _, key = part.partition("=")
        if name.strip().lower() in ("accountkey", "sharedaccesskey"):
            raw = _b64decode_strict(key.strip())
            return raw is not None and len(raw) >= 32 and not is_placeholder_token(key, 10)
    return False


def valid_github_token(value: str) -> bool:
    body = value.split("_", 1)[1]
    if value.startswith("github_pat_"):
        body = value[len("github_pat_") :]
    return not is_placeholder_token(body.replace("_", ""), 10)


def valid_gitlab_token(value: str) -> bool:
    return not is_placeholder_token(value.split("-", 1)[1])


def valid_slack_token(value: str) -> bool:
    """Bot/user/app tokens start with a numeric workspace segment; webhook URLs
    carry a T... team and B... channel id and a secret of 16+ characters."""
    if "hooks.slack.com" in value:
        team, channel, secret = value.rsplit("/", 3)[1:]
        return team[0] == "T" and channel[0] == "B" and not is_placeholder_token(secret)
    segments = value.split("-")[1:]
    return bool(segments) and segments[0].isdigit() and not is_placeholder_token("".join(segments[1:]))


def valid_stripe_key(value: str) -> bool:
    return value.startswith(("sk_live_", "sk_test_", "rk_live_", "rk_test_")) and not is_placeholder_token(
        value[8:]
    )


def valid_jwt(value: str) -> bool:
    """Header decodes to a JSON object with a string "alg"; payload is base64url."""
    header, payload, _signature = value.split(".")
    raw = _b64decode_strict(header, altchars=b"-_")
    if raw is None or _b64decode_strict(payload, altchars=b"-_") is None:
        return False
    try:
        decoded = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(decoded, dict) and isinstance(decoded.get("alg"), str)


_PEM_HEADER = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_FOOTER = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


def valid_private_key(value: str) -> bool:
    """The body (armor headers and PGP checksum line aside) is strict base64 of
    at least 32 bytes: rejects `...` and `<your key here>` stubs."""
    body = _PEM_FOOTER.split(_PEM_HEADER.split(value, 1)[-1], 1)[0]
    body = body.replace("\\n", "\n").replace("\\r", "\n")
    lines = [ln.strip() for ln in body.splitlines()]
    b64 = "".join(ln for ln in lines if ln and ":" not in ln and not ln.startswith("="))
    if _PEM_FOOTER.search(value) is None:  # cut off: decode the whole quads
        b64 = b64[: len(b64) - len(b64) % 4]
    elif len(b64) % 4:
        return False
    raw = _b64decode_strict(b64)
    return raw is not None and len(raw) >= 32


def is_fake_password(value: str) -> bool:
    """Masked, templated, placeholder or already-pseudonymized passwords."""
    return (
        _MASKED.fullmatch(value) is not None
        or _TEMPLATE.fullmatch(value) is not None
        or value.lower().strip("'\"") in _PLACEHOLDER_WORDS
        or _PSEUDONYM.fullmatch(value) is not None
        or len(set(value)) == 1
    )


def valid_generic_secret(value: str) -> bool:
    """Long, high-entropy, mixed-class values that are not names, paths or masks."""
    return (
        len(value) >= MIN_GENERIC_LENGTH
        and shannon_entropy(value) >= MIN_ENTROPY
        and _char_classes(value) >= 2
        and not is_fake_password(value)
        and _DOTTED_NAME.fullmatch(value) is None
        and not value.startswith(("/", "./", "http", "$"))
    )


# --- patterns and their RE2 prefilters ------------------------------------

AWS_ACCESS_KEY_RE = r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])"
AWS_ACCESS_KEY_PREFILTER = r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"

# An aws/secret word earlier on the same line, then a 40-character value.
AWS_SECRET_KEY_RE = r"(?i:aws|secret)[^\n]{0,60}?[=: \t\"'`(,]\K[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
AWS_SECRET_KEY_PREFILTER = r"(?i:aws|secret)[^\n]*[A-Za-z0-9/+]{40}"

# Quotes may be backslash-escaped when the key file sits inside a JSON string.
_Q = r"\\?\""
GCP_KEY_ID_AFTER_TYPE_RE = (
    rf"{_Q}type{_Q}\s*:\s*{_Q}service_account{_Q}.{{0,4000}}?"
    rf"{_Q}private_key_id{_Q}\s*:\s*{_Q}\K[0-9a-f]{{40}}(?={_Q})"
)
GCP_KEY_ID_BEFORE_TYPE_RE = (
    rf"{_Q}private_key_id{_Q}\s*:\s*{_Q}\K[0-9a-f]{{40}}(?={_Q}.{{0,4000}}?"
    rf"{_Q}type{_Q}\s*:\s*{_Q}service_account{_Q})"
)
GCP_PREFILTER = r"private_key_id"

_AZ_SEG = r"[A-Za-z]+=[^;\s\"'<>]*"
AZURE_RE = (
    r"(?<![A-Za-z])(?:(?i:DefaultEndpointsProtocol|AccountName|Endpoint|BlobEndpoint|HostName)=[^;\s\"'<>]*;)"
    rf"(?:{_AZ_SEG};)*?"
    r"(?i:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}={0,2}"
    rf"(?:;{_AZ_SEG})*;?"
)
AZURE_PREFILTER = r"(?i:accountkey|sharedaccesskey)="

GITHUB_RE = r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])"
GITHUB_PREFILTER = r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"

GITLAB_RE = r"(?<![A-Za-z0-9_-])(?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*"
GITLAB_PREFILTER = r"(?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20}"

SLACK_TOKEN_RE = r"(?<![A-Za-z0-9])xox[abposr]-[0-9]+(?:-[0-9A-Za-z]+)+"
SLACK_WEBHOOK_RE = (
    r"https?://hooks\.slack\.com/(?:services|workflows)/[A-Z0-9]{8,}/[A-Z0-9]{8,}/[A-Za-z0-9]{16,}"
)
SLACK_PREFILTER = r"xox[abposr]-[0-9]|hooks\.slack\.com/"

STRIPE_RE = r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,}(?![A-Za-z0-9_])"
STRIPE_PREFILTER = r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24}"

JWT_RE = r"(?<![A-Za-z0-9_\-])ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?![A-Za-z0-9_\-])(?!\.[A-Za-z0-9_-])"
JWT_PREFILTER = r"ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"

# BEGIN line, body (base64, armor headers, real or `\n`-escaped newlines),
# then the matching END line or, for a cut-off key, the end of the body.
PRIVATE_KEY_RE = (
    r"-----BEGIN (?P<kind>(?:[A-Z0-9]+ )*)PRIVATE KEY(?P<block>(?: BLOCK)?)-----"
    r"(?:\\[rn]|[A-Za-z0-9+/=:,.\- \t\r\n])*?"
    r"(?:-----END (?P=kind)PRIVATE KEY(?P=block)-----"
    r"|(?=\s*(?:[^A-Za-z0-9+/=:,.\-\s\\]|\\[^rn]|\Z)))"
)
PRIVATE_KEY_PREFILTER = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY"

URL_USERINFO_RE = (
    r"\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:/@?#\"'<>]{0,256}:\K[^\s@/?#\"'<>]{1,256}(?=@[A-Za-z0-9\[])"
)
URL_QUERY_RE = r"://[^\s\"'<>]{0,2000}?[?&;](?i:password|passwd|pwd)=\K[^&;\s#\"'<>]+"
CONN_STRING_RE = (
    r"(?<![A-Za-z])(?i:server|data source|host|hostname|address|uid|user id|username|user|database|initial catalog)"
    r"\s*=[^;\n]{0,200};(?:[^;\n]{0,200};){0,12}?\s*(?i:password|pwd)\s*=\s*\K[^;\s\"'<>]+"
)
URL_CREDENTIALS_PREFILTER = r"://[^\s/@]*:[^\s@]*@|(?i:pwd|passwd|password)\s*="

_KEY_WORD = r"(?:authorization|credentials?|password|passwd|pwd|secret|token|apikey|api_key|auth|key)"
_CAMEL_KEY_WORD = r"(?:Authorization|Credentials?|Password|Passwd|Pwd|Secret|Token|ApiKey|Auth|Key)"
GENERIC_SECRET_RE = (
    # The key word, at a word start or as the capitalized part of camelCase ...
    rf"(?:(?<![A-Za-z])(?i:{_KEY_WORD})|(?<=[a-z0-9]){_CAMEL_KEY_WORD})"
    # ... the rest of the identifier (`_id`, `-value`, `Id`), a closing quote ...
    r"(?:[_.\-][A-Za-z0-9_.\-]{0,20}|(?<=[a-z])[A-Z][A-Za-z0-9_]{0,20})?"
    # (not an identifier that names something else: `key_id`, `tokenUrl`, `secret_path`)
    r"(?<!(?i:id|name|path|file|url|uri|type|length|size|count))[\"'\]]{0,2}"
    # ... `:`, `=`, `:=`, `=>` or ` is `, an opening quote, maybe a scheme word.
    r"[ \t]{0,3}(?::=|=>|[:=]|(?<=\s)(?i:is)(?=\s))[ \t]{0,3}[\"'`]?(?:(?i:bearer|basic|token)[ \t]+)?"
    r"\K[A-Za-z0-9+/=_\-.~!@#$%^&*]{16,256}(?<!\.)"
)
GENERIC_SECRET_PREFILTER = (
    r"(?i:authorization|credential|password|passwd|pwd|secret|token|apikey|api_key|auth|key)"
    r"[A-Za-z0-9_.\-\"'\] \t]{0,30}(?:[:=]|(?i:is))"
)


class _SecretRecognizer(PatternRecognizer):
    """A case-sensitive pattern recognizer for one secret entity."""

    ENTITY = ""
    PATTERNS: tuple[tuple[str, str], ...] = ()
    SCORE = 1.0

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=[Pattern(name, regex, self.SCORE) for name, regex in self.PATTERNS],
            name=type(self).__name__,
            global_regex_flags=FLAGS,
        )


class AwsAccessKeyRecognizer(_SecretRecognizer):
    ENTITY = "AWS_ACCESS_KEY"
    PATTERNS = (("aws access key id", AWS_ACCESS_KEY_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_aws_access_key(pattern_text)


class AwsSecretKeyRecognizer(_SecretRecognizer):
    ENTITY = "AWS_SECRET_KEY"
    PATTERNS = (("aws secret access key", AWS_SECRET_KEY_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_aws_secret_key(pattern_text)


class GcpServiceAccountKeyRecognizer(_SecretRecognizer):
    ENTITY = "GCP_SERVICE_ACCOUNT_KEY"
    PATTERNS = (
        ("gcp private_key_id after type", GCP_KEY_ID_AFTER_TYPE_RE),
        ("gcp private_key_id before type", GCP_KEY_ID_BEFORE_TYPE_RE),
    )

    def validate_result(self, pattern_text: str) -> bool:
        return valid_gcp_private_key_id(pattern_text)


class AzureConnectionStringRecognizer(_SecretRecognizer):
    ENTITY = "AZURE_CONNECTION_STRING"
    PATTERNS = (("azure connection string", AZURE_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_azure_connection_string(pattern_text)


class GithubTokenRecognizer(_SecretRecognizer):
    ENTITY = "GITHUB_TOKEN"
    PATTERNS = (("github token", GITHUB_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_github_token(pattern_text)


class GitlabTokenRecognizer(_SecretRecognizer):
    ENTITY = "GITLAB_TOKEN"
    PATTERNS = (("gitlab token", GITLAB_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_gitlab_token(pattern_text)


class SlackTokenRecognizer(_SecretRecognizer):
    ENTITY = "SLACK_TOKEN"
    PATTERNS = (("slack token", SLACK_TOKEN_RE), ("slack webhook", SLACK_WEBHOOK_RE))

    def validate_result(self, pattern_text: str) -> bool:
        return valid_slack_token(pattern_text)


class StripeKeyRecognizer(_SecretRecognizer):
    ENTITY = "STRIPE_KEY"
    PATTERNS = (("stripe secret key", STRIPE_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_stripe_key(pattern_text)


class JwtRecognizer(_SecretRecognizer):
    ENTITY = "JWT"
    PATTERNS = (("jwt", JWT_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_jwt(pattern_text)


class PrivateKeyRecognizer(_SecretRecognizer):
    ENTITY = "PRIVATE_KEY"
    PATTERNS = (("pem private key", PRIVATE_KEY_RE),)

    def validate_result(self, pattern_text: str) -> bool:
        return valid_private_key(pattern_text)


class UrlCredentialsRecognizer(_SecretRecognizer):
    ENTITY = "URL_CREDENTIALS"
    SCORE = 0.9
    PATTERNS = (
        ("url userinfo password", URL_USERINFO_RE),
        ("url password parameter", URL_QUERY_RE),
        ("connection string password", CONN_STRING_RE),
    )

    def invalidate_result(self, pattern_text: str) -> bool:
        """Keeps the pattern's 0.9: a real password, but without a format to check."""
        return is_fake_password(pattern_text)


class GenericSecretRecognizer(_SecretRecognizer):
    ENTITY = "GENERIC_SECRET"
    SCORE = 0.6
    PATTERNS = (("key word and high-entropy value", GENERIC_SECRET_RE),)

    def invalidate_result(self, pattern_text: str) -> bool:
        return not valid_generic_secret(pattern_text)


SPECS: list[RecognizerSpec] = [
    RecognizerSpec("AWS_ACCESS_KEY", AwsAccessKeyRecognizer, AWS_ACCESS_KEY_PREFILTER),
    RecognizerSpec("AWS_SECRET_KEY", AwsSecretKeyRecognizer, AWS_SECRET_KEY_PREFILTER),
    RecognizerSpec("GCP_SERVICE_ACCOUNT_KEY", GcpServiceAccountKeyRecognizer, GCP_PREFILTER),
    RecognizerSpec("AZURE_CONNECTION_STRING", AzureConnectionStringRecognizer, AZURE_PREFILTER),
    RecognizerSpec("GITHUB_TOKEN", GithubTokenRecognizer, GITHUB_PREFILTER),
    RecognizerSpec("GITLAB_TOKEN", GitlabTokenRecognizer, GITLAB_PREFILTER),
    RecognizerSpec("SLACK_TOKEN", SlackTokenRecognizer, SLACK_PREFILTER),
    RecognizerSpec("STRIPE_KEY", StripeKeyRecognizer, STRIPE_PREFILTER),
    RecognizerSpec("JWT", JwtRecognizer, JWT_PREFILTER),
    RecognizerSpec("PRIVATE_KEY", PrivateKeyRecognizer, PRIVATE_KEY_PREFILTER),
    RecognizerSpec("URL_CREDENTIALS", UrlCredentialsRecognizer, URL_CREDENTIALS_PREFILTER),
    RecognizerSpec("GENERIC_SECRET", GenericSecretRecognizer, GENERIC_SECRET_PREFILTER),
]
