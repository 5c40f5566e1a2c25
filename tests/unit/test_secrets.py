"""Secret files and secret-looking strings: table-driven true positives and true negatives."""

import pytest

from context.secrets import PLACEHOLDER, is_secret_path, looks_random, redact

SECRET_PATHS = [
    ".env", "app/.env", ".env.local", ".env.production", ".envrc", "certs/server.pem", "tls/server.key",
    "id_rsa", "home/.ssh/id_rsa.pub", "id_ed25519", "id_dsa", "id_ecdsa", "credentials",
    "credentials.json", ".aws/credentials", ".netrc", ".pgpass", "store.p12", "store.pfx", ".npmrc",
    ".pypirc", "secrets.yaml", "config/secrets.json", "secrets.toml", ".git-credentials",
    ".ssh/config", "deploy/prod.tfvars", "Service-Account-prod.json", "CREDENTIALS.JSON",
]
ORDINARY_PATHS = [
    "main.py", "src/env.py", "environment.ts", "keys.py", "secrets.py", "context/secrets.py",
    "token.go", "auth/login.js", "keyboard.c", "README.md", "docs/credentials.md", "pem.rs",
    "tests/test_env.py", "monkey.lua",
]


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_secret_paths(path):
    assert is_secret_path(path)


@pytest.mark.parametrize("path", ORDINARY_PATHS)
def test_ordinary_paths(path):
    assert not is_secret_path(path)


GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq\nZm9vYmFy\n-----END RSA PRIVATE KEY-----"

# (text, the secret that must disappear)
POSITIVES = [
    (f"key = '''{PRIVATE_KEY}'''", "MIIEpAIBAAKCAQEA7bq"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA", "b3BlbnNzaC1rZXktdjEAAAA"),  # truncated
    ("aws_id = 'AKIAIOSFODNN7EXAMPLE'", "AKIAIOSFODNN7EXAMPLE"),
    ("ASIAY34FZKBOKMUTVV7A is the session key", "ASIAY34FZKBOKMUTVV7A"),
    (f"gh = {GITHUB}", GITHUB),
    ("GH_PAT=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0123456789"),
    ("slack('xoxb-2634-1234567890-AbCdEfGhIjKlMnOp')", "xoxb-2634-1234567890-AbCdEfGhIjKlMnOp"),
    ("client = OpenAI(api_key='sk-proj-Ab3dEf9hIjK1mNoPqRsTuVwXyZ0123')", "sk-proj-Ab3dEf9hIjK1mNoPqRsTuVwXyZ0123"),
    ("url = f'...?key=AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v'", "AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v"),
    (f"headers = {{'Authorization': 'Bearer {JWT}'}}", JWT),
    ("stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("rk_live_51Habcdefghij0123456789", "rk_live_51Habcdefghij0123456789"),
    ("SECRET_KEY = 'django-insecure-8f#k2@lq!zx7v9w'", "django-insecure-8f#k2@lq!zx7v9w"),
    ('"client_secret": "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"', "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"),
    ("DB_PASSWORD=Tr0ub4dor3xyzAbcdEfgh", "Tr0ub4dor3xyzAbcdEfgh"),
    ('apiToken := "3f2a9b7c1d0e4f5a6b7c8d9e0f1a2b3c"', "3f2a9b7c1d0e4f5a6b7c8d9e0f1a2b3c"),
    ("auth_header: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("curl -H 'Authorization: Bearer q8Zx2Lk9Wm4Np7Rt3Vb6Yc1Hd5Jf0Gs'", "q8Zx2Lk9Wm4Np7Rt3Vb6Yc1Hd5Jf0Gs"),
    ("DATABASE_URL = 'postgres://app:s3cretPa55@db.internal:5432/app'", "s3cretPa55"),
    ('def connect(api_key: str = "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"):', "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"),
    ('var apiKey string = "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"', "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"),
    ('private readonly token: string = "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU";', "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU"),
    ("//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "a1B2c3D4e5F6g7H8"),
    ('HF_TOKEN = "hf_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"', "a1B2c3D4e5F6g7H8"),
    ("gitlab = 'glpat-" + "a1B2c3D4e5F6g7H8i9J0'", "a1B2c3D4e5F6g7H8"),
    ("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc" + "a1B2c3D4e5F6g7H8i9J0" * 3, "AgEIcHlwaS5vcmc"),
    # a password is a password however guessable: any quoted value given to a password's name
    ('password = "hunter2hunter2"', "hunter2hunter2"),
    ('db.connect(user="app", password="correct-horse-battery")', "correct-horse-battery"),
    ('{"password": "s3cr3t!"}', "s3cr3t!"),
    ('DB_PASS="letmein"', "letmein"),
    ('smtp.pass = "letmein"', "letmein"),
    ('const adminPwd = "qwerty12";', "qwerty12"),
    ('userPassword: "qwerty12"', "qwerty12"),
]

# ordinary code that must come back unchanged
NEGATIVES = [
    "token = next(tokens)",
    'password_field = "password"',
    "api_key = os.environ['API_KEY']",
    "def check_token(token: str, key: bytes | None = None) -> bool:",
    'cache_key = "user_profile_settings_v2"',
    'TOKEN_TYPE = "bearer"',
    "secret = get_secret(name='prod/db')",
    "author = 'Jane Doe'",
    'key: "HTTP_X_API_KEY_HEADER_V2"',
    'auth_url = "https://example.com/oauth2/v1/authorize"',
    "tokenizer = AutoTokenizer.from_pretrained(model_path)",
    'sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    "requests==2.32.3 --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
    'url = "http://%s:%s@%s/" % (user, password, host)',
    "git@github.com:owner/repo.git",
    "sk-learn is not a key",
    'keyring.set_password("svc", user, password)',
    "class TokenBucket:\n    capacity: int = 10",
    "token: Optional[str] = None",
    "def auth(user: str, password: str | None = None) -> Session:",
    'password = "{password}"',  # placeholders and empty values
    'password = "%s"',
    'PASSWORD = "********"',
    'password = ""',
    "password = get_password()",  # a variable or a call, not a literal
    'pwd = "/home/user"',  # a folder
    'compass = "north-east"',  # names that only end like one
    'bypass_cache = "always"',
    "if x:\n    pass\nkey = None",
    'hf_hub_download(repo_id="org/model", filename="model.gguf")',
]


@pytest.mark.parametrize("text,secret", POSITIVES)
def test_redacts_secrets(text, secret):
    out = redact(text)
    assert secret not in out
    assert PLACEHOLDER in out


@pytest.mark.parametrize("text", NEGATIVES)
def test_leaves_ordinary_code_alone(text):
    assert redact(text) == text


def test_assignment_keeps_name_and_quotes():
    assert redact("API_KEY = 'Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU'") == f"API_KEY = '{PLACEHOLDER}'"


def test_private_key_block_redacted_whole_with_surroundings_kept():
    out = redact(f"before\n{PRIVATE_KEY}\nafter")
    assert out == f"before\n{PLACEHOLDER}\nafter"


def test_text_starting_inside_a_key_block_loses_everything_up_to_its_end_line():
    # a prompt window or a training chunk cut after the BEGIN line
    tail = PRIVATE_KEY.split("\n", 1)[1]
    assert redact(f'{tail}"""\nafter') == f'{PLACEHOLDER}"""\nafter'
    # a later, whole block is left to the ordinary pattern; the text before it stays
    assert redact(f"x = 1\n{PRIVATE_KEY}") == f"x = 1\n{PLACEHOLDER}"
    # a key in a string literal, one quoted line each
    quoted = '    "MIIEpAIBAAKCAQEA7bq\\n"\n    "Zm9vYmFy\\n"\n    "-----END RSA PRIVATE KEY-----"\n)'
    assert redact(quoted) == f'{PLACEHOLDER}"\n)'


@pytest.mark.parametrize("code", [
    # code that handles PEM text names the END marker after ordinary lines: nothing is a key here
    'def is_pem(text):\n    lines = text.strip().splitlines()\n'
    '    return lines[-1] == "-----END RSA PRIVATE KEY-----"\n',
    'PEM_FOOTER = "-----END PRIVATE KEY-----"\n',
    '    pass\n\nif line.startswith("-----END OPENSSH PRIVATE KEY-----"):\n    break\n',
])
def test_code_naming_the_end_marker_is_not_a_key_tail(code):
    assert redact(code) == code


@pytest.mark.parametrize("cut", range(0, 120, 7))
def test_a_key_block_cut_anywhere_leaks_no_line_of_it(cut):
    text = f'def load():\n    return """{PRIVATE_KEY}"""\n'
    left, right = text[:cut], text[cut:]
    out = redact(left) + "|" + redact(right)
    for line in ("MIIEpAIBAAKCAQEA7bq", "Zm9vYmFy"):
        assert line not in out


@pytest.mark.parametrize("value,expected", [
    ("Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU", True),
    ("UserProfileSettingsVersion2", False),
    ("short1A", False),
    ("aaaaaaaaaaaaaaaaaaaaaaaa1", False),
    ("abcdefghijklmnopqrstuvwxyz", False),  # one class only
])
def test_looks_random(value, expected):
    assert looks_random(value) is expected
