"""Generators of valid PII and secret values, built from each format's published rules (never from a
list of samples), shared by the example tests and the property tests."""

from __future__ import annotations

import base64
import json
import random
import string

import phonenumbers

from llm_soc2.scrub.detectors.iban import IBAN_LENGTHS

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def luhn_complete(partial: str) -> str:
    """``partial`` followed by the digit that makes the Luhn checksum valid."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


# Issuer prefixes and lengths from the networks' published ranges.
CARD_SPECS = (("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
              ("6011", 16), ("65", 16), ("36", 14), ("3530", 16), ("62", 16))  # fmt: skip


def card(rng: random.Random, separator: str = "") -> str:
    prefix, length = rng.choice(CARD_SPECS)
    while True:
        body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
        number = luhn_complete(body)
        if len(set(number)) > 1:
            break
    if not separator:
        return number
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def iban(rng: random.Random, *, grouped: bool = False) -> str:
    country = rng.choice(sorted(IBAN_LENGTHS))
    bban = "".join(
        rng.choice(string.digits + string.ascii_uppercase) for _ in range(IBAN_LENGTHS[country] - 4)
    )
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4)) if grouped else value


def email(rng: random.Random) -> str:
    local_chars = string.ascii_lowercase + string.digits
    local = "".join(rng.choice(local_chars) for _ in range(rng.randint(1, 12)))
    if rng.random() < 0.5:
        local += rng.choice("._+-") + "".join(rng.choice(local_chars) for _ in range(rng.randint(1, 8)))
    labels = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 10)))
              for _ in range(rng.randint(1, 3))]  # fmt: skip
    tld = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 6)))
    return f"{local}@{'.'.join(labels)}.{tld}"


PHONE_REGIONS = ("US", "GB", "DE", "FR", "IT", "ES", "NL", "CH", "IN", "AU", "JP", "BR")


def phone(rng: random.Random) -> str:
    """A valid number of a region (libphonenumber's example), in international format."""
    region = rng.choice(PHONE_REGIONS)
    number = phonenumbers.example_number(region)
    assert number is not None
    style = rng.choice((phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164))
    return phonenumbers.format_number(number, style)


def public_ipv4(rng: random.Random) -> str:
    first = rng.choice([n for n in range(1, 224) if n not in (10, 127)])
    return ".".join(str(n) for n in (first, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)))


def random_key(rng: random.Random, length: int, alphabet: str = ALNUM) -> str:
    """Random characters with a lower-case letter, an upper-case letter and a digit, as issued keys have."""
    chars = [
        rng.choice(string.ascii_lowercase),
        rng.choice(string.ascii_uppercase),
        rng.choice(string.digits),
    ]
    chars += [rng.choice(alphabet) for _ in range(length - 3)]
    rng.shuffle(chars)
    return "".join(chars)


def aws_access_key(rng: random.Random) -> str:
    return rng.choice(("AKIA", "ASIA")) + "".join(
        rng.choice(string.ascii_uppercase + "234567") for _ in range(16)
    )


def aws_secret_key(rng: random.Random) -> str:
    return random_key(rng, 40, B64)


def openai_key(rng: random.Random) -> str:
    kind = rng.choice(("legacy", "proj", "svcacct"))
    if kind == "legacy":
        return "sk-" + random_key(rng, 48)
    return f"sk-{kind}-" + random_key(rng, rng.randint(60, 160), ALNUM + "-_")


def anthropic_key(rng: random.Random) -> str:
    return "sk-ant-api03-" + random_key(rng, 93, ALNUM + "-_")


def github_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "github_pat_" + random_key(rng, 82, ALNUM + "_")
    return "gh" + rng.choice("pousr") + "_" + random_key(rng, 36)


def gitlab_token(rng: random.Random) -> str:
    return "glpat-" + random_key(rng, 20, ALNUM + "-_")


def slack_token(rng: random.Random) -> str:
    digits = "".join(rng.choice(string.digits) for _ in range(12))
    return f"xox{rng.choice('abprs')}-{digits}-{digits[::-1]}-{random_key(rng, 24)}"


def stripe_key(rng: random.Random) -> str:
    return f"{rng.choice('sr')}k_{rng.choice(('live', 'test'))}_" + random_key(rng, rng.choice((24, 99)))


def google_api_key(rng: random.Random) -> str:
    return "AIza" + random_key(rng, 35, ALNUM + "-_")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = {"alg": rng.choice(("HS256", "RS256", "ES256")), "typ": "JWT"}
    payload = {
        "sub": str(rng.randint(1, 10**9)),
        "iat": rng.randint(10**9, 2 * 10**9),
        "name": random_key(rng, 8),
    }
    signature = bytes(rng.getrandbits(8) for _ in range(32))
    return ".".join(
        (_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()), _b64url(signature))
    )


def pem_private_key(rng: random.Random) -> str:
    label = rng.choice(("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"))
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.randint(48, 600)))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def password_value(rng: random.Random) -> str:
    return random_key(rng, rng.randint(10, 24), ALNUM + "!#%&*-_.")


def bearer_token(rng: random.Random) -> str:
    """An opaque access token: URL-safe characters, 24 to 120 of them."""
    return random_key(rng, rng.randint(24, 120), ALNUM + "-_.~")
