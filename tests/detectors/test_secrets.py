"""Secret recognizers: exact spans in realistic lines, silence on look-alikes.

All values are fake (AWS's documented examples, or deterministic bytes made
here) but valid in format, so the validators accept them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestguard.detectors.recognizers import secrets
from ingestguard.detectors.recognizers.secrets import SPECS, shannon_entropy

BY_ENTITY = {spec.entity: spec for spec in SPECS}
RECOGNIZERS = {spec.entity: spec.build() for spec in SPECS}
THRESHOLD = 0.5


def _fake_bytes(label: str, n: int) -> bytes:
    out = b""
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{len(out)}".encode()).digest()
    return out[:n]


def _alnum(label: str, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % 62] for b in _fake_bytes(label, n))


def _b64url(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_STS_KEY_ID = "ASIAY34FZKBOKMUTVV7A"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GCP_KEY_ID = hashlib.sha1(b"fake gcp key").hexdigest()
AZURE_ACCOUNT_KEY = base64.b64encode(_fake_bytes("azure storage", 64)).decode()
AZURE_SAS_KEY = base64.b64encode(_fake_bytes("azure sas", 32)).decode()
AZURE_STORAGE = (
    "DefaultEndpointsProtocol=https;AccountName=contosodata;"
    f"AccountKey={AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net"
)
AZURE_BUS = (
    "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
    f"SharedAccessKey={AZURE_SAS_KEY}"
)
GH_CLASSIC = "ghp_" + _alnum("gh classic", 36)
GH_SERVER = "ghs_" + _alnum("gh server", 36)
GH_FINE = "github_pat_" + _alnum("gh fine a", 22) + "_" + _alnum("gh fine b", 59)
GITLAB = "glpat-" + _alnum("gitlab", 20)
SLACK_BOT = "xoxb-2748291048-4820193847261-" + _alnum("slack bot", 24)
SLACK_USER = "xoxp-2748291048-2748291050-4820193847262-" + hashlib.md5(b"slack").hexdigest()
SLACK_HOOK = "https://hooks.slack.com/services/T024BE7LD/B01J0N8AUMA/" + _alnum("slack hook", 24)
STRIPE_LIVE = "sk_live_" + _alnum("stripe live", 24)
STRIPE_RESTRICTED = "rk_live_" + _alnum("stripe restricted", 99)
STRIPE_TEST = "sk_test_" + _alnum("stripe test", 32)
JWT = ".".join(
    [
        _b64url({"alg": "HS256", "typ": "JWT"}),
        _b64url({"sub": "1234567890", "name": "Jane Doe", "iat": 1516239022}),
        base64.urlsafe_b64encode(_fake_bytes("jwt sig", 32)).rstrip(b"=").decode(),
    ]
)
JWT_RS = ".".join(
    [
        _b64url({"kid": "k1", "alg": "RS256"}),
        _b64url({"iss": "https://issuer.example", "aud": "api"}),
        base64.urlsafe_b64encode(_fake_bytes("jwt rs sig", 256)).rstrip(b"=").decode(),
    ]
)
NOT_JWT = ".".join([_b64url({"typ": "JWT"}), _b64url({"sub": "x"}), "c2lnbmF0dXJl"])
_KEY_B64 = base64.b64encode(_fake_bytes("rsa", 600)).decode()
_KEY_LINES = "\n".join(_KEY_B64[i : i + 64] for i in range(0, len(_KEY_B64), 64))
RSA_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{_KEY_LINES}\n-----END RSA PRIVATE KEY-----"
PKCS8_KEY = f"-----BEGIN PRIVATE KEY-----\n{_KEY_LINES}\n-----END PRIVATE KEY-----"
ENCRYPTED_KEY = (
    "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0F1E2D3C4B5A69788796A5B4C3D2E1F0\n\n"
    f"{_KEY_LINES}\n-----END EC PRIVATE KEY-----"
)
OPENSSH_TRUNCATED = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_KEY_LINES[:200]}"
GCP_JSON = json.dumps(
    {
        "type": "service_account",
        "project_id": "demo-project-123",
        "private_key_id": GCP_KEY_ID,
        "private_key": PKCS8_KEY + "\n",
        "client_email": "svc@demo-project-123.iam.gserviceaccount.com",
    },
    indent=2,
)
GCP_JSON_REORDERED = json.dumps({"private_key_id": GCP_KEY_ID, "type": "service_account"})
GENERIC_VALUE = "Zq8vN3xLr2Tw5Yb7Kd1Hs4Jm"
GENERIC_HEX = hashlib.md5(b"generic").hexdigest()


def _at(text: str, entity: str, value: str, nth: int = 0) -> tuple[str, int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return (entity, start, start + len(value))


def _case(text: str, entity: str, *values: str) -> tuple[str, str, list[tuple[str, int, int]]]:
    return (entity, text, [_at(text, entity, v) for v in values])


POSITIVE = [
    # AWS access key ids
    _case(f"aws_access_key_id = {AWS_KEY_ID}", "AWS_ACCESS_KEY", AWS_KEY_ID),
    _case(f'export AWS_ACCESS_KEY_ID="{AWS_STS_KEY_ID}"', "AWS_ACCESS_KEY", AWS_STS_KEY_ID),
    _case(f"2024-05-01 INFO boto: using key {AWS_KEY_ID} for s3://bucket", "AWS_ACCESS_KEY", AWS_KEY_ID),
    # AWS secret keys, after an aws/secret word on the same line
    _case(f"aws_secret_access_key = {AWS_SECRET}", "AWS_SECRET_KEY", AWS_SECRET),
    _case(f'  "SecretAccessKey": "{AWS_SECRET}",', "AWS_SECRET_KEY", AWS_SECRET),
    _case(f"AWS_SECRET_ACCESS_KEY={AWS_SECRET} aws s3 ls", "AWS_SECRET_KEY", AWS_SECRET),
    # GCP service-account key file: the private_key_id value
    _case(GCP_JSON, "GCP_SERVICE_ACCOUNT_KEY", GCP_KEY_ID),
    _case(GCP_JSON_REORDERED, "GCP_SERVICE_ACCOUNT_KEY", GCP_KEY_ID),
    _case(
        "creds = " + json.dumps(json.dumps({"type": "service_account", "private_key_id": GCP_KEY_ID})),
        "GCP_SERVICE_ACCOUNT_KEY",
        GCP_KEY_ID,
    ),
    # Azure connection strings, whole
    _case(f'"AzureWebJobsStorage": "{AZURE_STORAGE}",', "AZURE_CONNECTION_STRING", AZURE_STORAGE),
    _case(f"SERVICEBUS_CONN={AZURE_BUS}\n", "AZURE_CONNECTION_STRING", AZURE_BUS),
    # GitHub
    _case(
        f"git remote set-url origin https://{GH_CLASSIC}@github.com/acme/app.git", "GITHUB_TOKEN", GH_CLASSIC
    ),
    _case(f"GITHUB_TOKEN={GH_SERVER}", "GITHUB_TOKEN", GH_SERVER),
    _case(f'headers = {{"Authorization": "token {GH_FINE}"}}', "GITHUB_TOKEN", GH_FINE),
    # GitLab
    _case(
        f"CI_JOB: curl --header 'PRIVATE-TOKEN: {GITLAB}' https://gitlab.example.com", "GITLAB_TOKEN", GITLAB
    ),
    # Slack
    _case(f"SLACK_BOT_TOKEN={SLACK_BOT}", "SLACK_TOKEN", SLACK_BOT),
    _case(f"client = WebClient(token='{SLACK_USER}')", "SLACK_TOKEN", SLACK_USER),
    _case(f'webhook_url: "{SLACK_HOOK}"', "SLACK_TOKEN", SLACK_HOOK),
    # Stripe
    _case(f"stripe.api_key = '{STRIPE_LIVE}'", "STRIPE_KEY", STRIPE_LIVE),
    _case(
        f"STRIPE_SECRET={STRIPE_TEST} STRIPE_RESTRICTED={STRIPE_RESTRICTED}",
        "STRIPE_KEY",
        STRIPE_TEST,
        STRIPE_RESTRICTED,
    ),
    # JWT
    _case(f"GET /api/me Authorization: Bearer {JWT} 200", "JWT", JWT),
    _case(f"id_token={JWT_RS}&state=xyz", "JWT", JWT_RS),
    # Private keys
    _case(f"# deploy key\n{RSA_KEY}\n", "PRIVATE_KEY", RSA_KEY),
    _case(f"key.pem:\n{ENCRYPTED_KEY}\nEOF", "PRIVATE_KEY", ENCRYPTED_KEY),
    _case(f"pasted: {OPENSSH_TRUNCATED}", "PRIVATE_KEY", OPENSSH_TRUNCATED),
    _case(GCP_JSON, "PRIVATE_KEY", json.dumps(PKCS8_KEY)[1:-1]),
    # Passwords in URLs and connection strings: the password only
    _case(
        "DATABASE_URL=postgres://app_user:S3cr3t-Pa55@db.internal:5432/app", "URL_CREDENTIALS", "S3cr3t-Pa55"
    ),
    _case("redis = redis://:hunter2hunter2@cache:6379/0", "URL_CREDENTIALS", "hunter2hunter2"),
    _case(
        "jdbc:mysql://db.example.com:3306/shop?user=shop&password=Tr0ub4dor3", "URL_CREDENTIALS", "Tr0ub4dor3"
    ),
    _case(
        "Server=tcp:sql.example.net,1433;Database=crm;User ID=crm_app;Password=Q7!vRk2#pL;Encrypt=True;",
        "URL_CREDENTIALS",
        "Q7!vRk2#pL",
    ),
    # Generic high-entropy values after a key word
    _case(f'API_KEY = "{GENERIC_VALUE}"', "GENERIC_SECRET", GENERIC_VALUE),
    _case(f"  client_secret: {GENERIC_VALUE}", "GENERIC_SECRET", GENERIC_VALUE),
    _case(f'{{"apiKey": "{GENERIC_VALUE}"}}', "GENERIC_SECRET", GENERIC_VALUE),
    _case(f"the mailgun key is {GENERIC_HEX}.", "GENERIC_SECRET", GENERIC_HEX),
    _case(f"config.auth_token := '{GENERIC_VALUE}'", "GENERIC_SECRET", GENERIC_VALUE),
]

NEGATIVE = [
    # no entity-specific shape at all
    "request 123e4567-e89b-12d3-a456-426614174000 finished in 12ms",
    "Merge commit 9fceb02d0ae598e95dc970b74767f19372d61af8 into main",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ok",
    "GET /static/app.3f9a0c1be2d47a81c0e5.js 200",
    "Click here for a password reset link.",
    "Please change your password and token settings today.",
    "password: ********",
    "password: ****************************",
    "api_key: ${API_KEY}",
    "token = <your-token-here>",
    "DB password is PERSON_3f9a0c1be2d47a81c0e5",
    "api_key: GENERIC_SECRET_3f9a0c1be2d47a81c0e5",
    "secret_key_base: URL_CREDENTIALS_9b1c7e0d4a2f68e3b5d1",
    "primary key: user_profiles.account_identifier",
    "the monkey: ZqvNxLrTwYbKdHsJmAaBbCc",
    "key_path: /etc/ssl/private/server-key.pem",
    "auth_backend: django.contrib.auth.backends.ModelBackend",
    # look-alikes of the prefixed formats
    "AKIAXXXXXXXXXXXXXXXX is a placeholder",
    "akiaiosfodnn7example in lower case",
    "the SDK says AKIA1234567890123456 (digits 0, 1, 8, 9 are not base32)",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 touched aws/config.py",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "glpat-xxxxxxxxxxxxxxxxxxxx",
    "pk_live_" + _alnum("publishable", 24),
    "sk_live_short",
    "xoxb-not-a-token",
    f"{NOT_JWT} has no alg",
    "version eyJhbGciOi.broken.x",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "Files that start with -----BEGIN PRIVATE KEY----- hold keys.",
    "-----BEGIN PUBLIC KEY-----\n" + _KEY_LINES + "\n-----END PUBLIC KEY-----",
    "DefaultEndpointsProtocol=https;AccountName=dev;AccountKey=<account-key>;",
    "UseDevelopmentStorage=true",
    "private_key_id: " + GCP_KEY_ID,
    # URLs without a real password
    "https://example.com:8443/path?q=1",
    "postgres://user:password@localhost/db",
    "postgres://app:${DB_PASSWORD}@db:5432/app",
    "mysql://root:****@127.0.0.1/test",
    "ssh git@github.com:acme/app.git",
    "mailto:jane.doe@example.com",
]


@pytest.mark.parametrize(("entity", "text", "expected"), POSITIVE)
def test_reports_exact_spans(entity: str, text: str, expected: list[tuple[str, int, int]]) -> None:
    results = RECOGNIZERS[entity].analyze(text, [entity], None)
    found = sorted((r.entity_type, r.start, r.end) for r in results if r.score >= THRESHOLD)
    assert found == sorted(expected)


@pytest.mark.parametrize(("entity", "text", "expected"), POSITIVE)
def test_prefilter_passes_every_positive(entity: str, text: str, expected: list) -> None:
    prefilter = BY_ENTITY[entity].prefilter
    assert pc.match_substring_regex(pa.array([text], pa.large_string()), prefilter).to_pylist() == [True]


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_secret_in_look_alikes(text: str) -> None:
    found = [
        (r.entity_type, text[r.start : r.end])
        for entity, recognizer in RECOGNIZERS.items()
        for r in recognizer.analyze(text, [entity], None)
        if r.score >= THRESHOLD
    ]
    assert found == []


@pytest.mark.parametrize(
    ("entity", "score"),
    [("AWS_ACCESS_KEY", 1.0), ("JWT", 1.0), ("URL_CREDENTIALS", 0.9), ("GENERIC_SECRET", 0.6)],
)
def test_scores(entity: str, score: float) -> None:
    text = next(t for e, t, _ in POSITIVE if e == entity)
    assert {r.score for r in RECOGNIZERS[entity].analyze(text, [entity], None)} == {score}


def test_entropy_threshold() -> None:
    assert shannon_entropy("aaaaaaaaaaaaaaaa") == 0.0
    assert shannon_entropy(GENERIC_VALUE) >= secrets.MIN_ENTROPY
    assert not secrets.valid_generic_secret("abababababababab")


def test_every_spec_has_a_positive_case() -> None:
    assert {e for e, _, _ in POSITIVE} == set(BY_ENTITY)


def test_long_lines_stay_linear() -> None:
    """Bounded context: one long minified value must not go quadratic."""
    text = "user=" + "x" * 200_000 + " -----BEGIN " * 2_000 + " password" * 2_000
    for entity, recognizer in RECOGNIZERS.items():
        start = time.perf_counter()
        recognizer.analyze(text, [entity], None)
        assert time.perf_counter() - start < 2.0, entity
