"""Keeping secrets out of prompts: which files are never read, and redaction of snippets.

Everything the context engine shows the model comes from the user's disk, and a prompt may
go to a remote engine or a log file. So files that exist to hold secrets are never opened
(`is_secret_path`), and any text taken from other files goes through `redact` first.

`redact` knows the shapes of common credentials (private key blocks, also the tail of one
that a window or chunk cut into, cloud and SaaS tokens, JWTs, passwords in URLs) and also
catches assignments of random-looking strings to names such as `api_key` or `password`, and any
quoted literal given to a name that holds a password (`password`, `db_pass`, `adminPwd`): passwords
are often guessable words, not random strings. It leaves ordinary code alone: `token =
next(tokens)` and `password_field = "password"` are not secrets. Bare hex digests (sha256 pins
in lock files, git object ids) are deliberately left alone: they are public checksums, and
redacting them would blind the model to what such files look like. A hex string *assigned to* a
key/token-like name is treated like any other candidate value and redacted when random.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import PurePath

PLACEHOLDER = "<redacted>"

# Exact file names (compared lower-case) that hold credentials.
SECRET_NAMES = frozenset({
    ".env", ".envrc", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".yarnrc.yml",
    ".git-credentials", ".htpasswd", ".dockercfg", "credentials", "credentials.json",
    "credentials.yml", "credentials.yaml", "credentials.toml", "credentials.xml", "credentials.csv",
    "terraform.tfstate", "terraform.tfstate.backup",
})
SECRET_SUFFIXES = frozenset({".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".kdbx",
                             ".tfvars", ".tfstate", ".gpg", ".pgp"})
SECRET_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env.", "service-account")
# `secrets.<ext>` is a secret only for data formats: `secrets.py` is code (and gets redacted).
SECRET_DATA_EXTENSIONS = frozenset({"", ".json", ".yml", ".yaml", ".toml", ".ini", ".env", ".txt",
                                    ".xml", ".properties", ".conf", ".cfg", ".csv"})
SECRET_DIRS = frozenset({".ssh", ".gnupg", ".aws", ".kube", ".docker"})


def is_secret_path(path: PurePath | str) -> bool:
    """True for files that exist to hold credentials; such files are never opened."""
    p = PurePath(path)
    name = p.name.lower()
    if name in SECRET_NAMES or name.startswith(SECRET_PREFIXES):
        return True
    suffix = PurePath(name).suffix
    if suffix in SECRET_SUFFIXES:
        return True
    stem = name[: -len(suffix)] if suffix else name
    if stem in ("secrets", ".secrets") and suffix in SECRET_DATA_EXTENSIONS:
        return True
    return any(part.lower() in SECRET_DIRS for part in p.parts[:-1])


# A private key block; a truncated one (no END line) is redacted to the end of the text.
PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.DOTALL)
# An END line with no BEGIN before it, after nothing but key lines: the text (a prompt window, a
# chunk) starts inside a key block. Code that merely names the END marker is not a key's tail.
KEY_TAIL = re.compile(r"\A(?:(?!-----BEGIN).)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----", re.DOTALL)
# a line of a key block: base64 or a `Proc-Type: ...` header, maybe quoted or with a `\n` escape
KEY_LINE = re.compile(r"""[\s"'`]*(?:[A-Za-z0-9+/=]+|[A-Za-z-]+:[^\n]*)?(?:\\n)?[\s"'`,+]*""")
BEGIN_REST = re.compile(r"[-A-Z0-9 ]*")  # what is left of a BEGIN line cut inside


def _redact_key_tail(text: str) -> str:
    match = KEY_TAIL.match(text)
    if match is None:
        return text
    lines = text[: match.end()].split("\n")
    before = [*lines[:-1], lines[-1][: lines[-1].index("-----END")]]
    if BEGIN_REST.fullmatch(before[0]):
        before = before[1:]
    if not all(KEY_LINE.fullmatch(line) for line in before):
        return text
    return PLACEHOLDER + text[match.end():]


# Shapes of well-known credentials, each replaced whole.
TOKEN_PATTERNS: list[re.Pattern[str]] = [PRIVATE_KEY] + [re.compile(p) for p in (
    r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",  # AWS access key id
    r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,255}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
    r"\bxox[baprs]-[A-Za-z0-9-]{10,}",  # Slack
    r"\bsk-(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}",  # OpenAI/Anthropic style
    r"\bAIza[0-9A-Za-z_-]{35}",  # Google API key
    r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",  # JWT
    r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe secret / restricted keys
    r"\bnpm_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{36}\b",  # npm
    r"\bhf_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{30,}\b",  # Hugging Face
    r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab personal access token
    r"\bpypi-AgE[A-Za-z0-9_-]{50,}",  # PyPI API token
)]

# `user:password@` in a URL: the password goes.
# Format placeholders (`%s`, `{password}`, `${PASS}`, `<pass>`) are left alone.
URL_PASSWORD = re.compile(r"(?<=://)([^/\s:@]+):([^/\s@%{$<][^/\s@]*)@")

# `<name containing a secret word> <assignment operator> <value>`; the value is redacted only
# when it looks random (see `looks_random`).
SECRET_WORDS = r"(?:key|token|secret|password|passwd|pwd|pass|auth|credential)"
ASSIGNMENT = re.compile(
    r"""(?<![\w$.-])(?P<name>[\w$.-]{0,40}""" + SECRET_WORDS + r"""[\w$.-]{0,40})["']?"""
    r"""(?:\s*:\s*[A-Za-z_][\w.\[\], |]{0,40}?|\s+[A-Za-z_][\w.]{0,30})?"""  # `: str`, Go's ` string`
    r"""(?P<op>\s*(?::=|=>|=|:)\s*)"""
    r"""(?:(?P<q>["'`])(?P<quoted>[^"'`\s]+)(?P=q)|(?P<bare>[A-Za-z0-9+/=_.~-]+))""",
    re.IGNORECASE,
)
# A name that holds a password (`password`, `db_pass`, `adminPwd`; not `bypass`, `password_field`, `pwd`):
# any quoted value without spaces is one, random-looking or not, except a placeholder (`{password}`,
# `%s`, `${DB_PASS}`, `<pass>`, `****`) and an empty or one-to-three-character string.
PASSWORD_NAME = re.compile(r"(?:^|[_.-])(?i:password|passwd|pass)$|(?<=[a-z])(?:Password|Passwd|Pass)$"
                           r"|[_.-](?i:pwd)$|(?<=[a-z])Pwd$")  # `db_pwd`; a bare `pwd` is a folder
NOT_A_PASSWORD = re.compile(r"[{%$</~].*|[*xX.]+")
BEARER = re.compile(r"(?i)(\b(?:bearer|basic|token)\s+)([A-Za-z0-9._~+/-]{20,}=*)")

MIN_SECRET_LEN = 20
# Entropy thresholds: a share of the most a string of its length and alphabet can have (random
# strings come close to it), capped because long random strings never get near the maximum.
ENTROPY_FACTOR = 0.85
HEX_ENTROPY_FACTOR = 0.75
MAX_THRESHOLD = 4.3
MAX_WORDY_FRACTION = 0.6  # strings mostly made of word-like runs are identifiers, not keys
WORD_RUN = re.compile(r"[A-Z]?[a-z]{3,}")
HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits per character."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _wordy(value: str) -> bool:
    words = sum(len(m) for m in WORD_RUN.findall(value) if len(m) >= 4)
    return words >= MAX_WORDY_FRACTION * len(value)


def looks_random(value: str) -> bool:
    """True for a long, mixed-class, high-entropy string: the shape of a generated credential."""
    if len(value) < MIN_SECRET_LEN:
        return False
    classes = (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    if sum(classes) < 2:
        return False
    if HEX.fullmatch(value):
        return entropy(value) >= HEX_ENTROPY_FACTOR * math.log2(min(len(value), 16))
    if _wordy(value):
        return False
    return entropy(value) >= min(ENTROPY_FACTOR * math.log2(min(len(value), 64)), MAX_THRESHOLD)


def _redact_assignment(match: re.Match[str]) -> str:
    value = match.group("quoted") or match.group("bare") or ""
    if not looks_random(value) and not _password(match):
        return match.group(0)
    start, end = match.span("quoted") if match.group("quoted") else match.span("bare")
    offset = match.start()
    whole = match.group(0)
    return whole[: start - offset] + PLACEHOLDER + whole[end - offset:]


def _password(match: re.Match[str]) -> bool:
    """A quoted literal given to a name that holds a password (a bare value is a variable's name)."""
    value = match.group("quoted") or ""
    return (len(value) >= 4 and PASSWORD_NAME.search(match.group("name").strip("\"'")) is not None
            and not NOT_A_PASSWORD.fullmatch(value))


def _redact_bearer(match: re.Match[str]) -> str:
    return match.group(1) + PLACEHOLDER if looks_random(match.group(2)) else match.group(0)


# Cheap first pass, run on the lower-cased text: text with none of these has nothing the
# patterns above could match. It runs for every signature and doc the index stores.
TRIGGER = re.compile("|".join(re.escape(t) for t in (
    "private key", "akia", "asia", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "xox", "sk-", "sk_",
    "rk_", "aiza", "eyj", "://", "bearer", "basic", "token", "key", "secret", "passw", "pwd", "auth", "credential",
    "npm_", "hf_", "glpat-", "pypi-",
)) + r"""|pass["']?\s*[:=]""")  # `db_pass = `, not Python's `pass`


def redact(text: str) -> str:
    """`text` with secret-looking strings replaced by `<redacted>`."""
    if not text or not TRIGGER.search(text.lower()):
        return text
    text = _redact_key_tail(text)
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(PLACEHOLDER, text)
    text = URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{PLACEHOLDER}@", text)
    text = BEARER.sub(_redact_bearer, text)
    return ASSIGNMENT.sub(_redact_assignment, text)

