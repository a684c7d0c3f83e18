"""Each detector: values it must find, and look-alikes it must leave alone."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

import pytest

from llm_soc2.config import Settings
from llm_soc2.scrub import Scrubber

from . import values

RNG_SEED = 20261126


def found(scrubber: Scrubber, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in scrubber.scan(text)]


def assert_found(scrubber: Scrubber, entity: str, value: str, template: str = "value: {} here") -> None:
    text = template.format(value)
    findings = found(scrubber, text)
    assert (entity, value) in findings, f"{entity} {value!r} not found in {text!r}: {findings}"


def assert_clean(scrubber: Scrubber, text: str) -> None:
    assert found(scrubber, text) == []


GENERATED: list[tuple[str, Callable[[random.Random], str], str]] = [
    ("EMAIL", values.email, "mail {} please"),
    ("CREDIT_CARD", values.card, "card {} exp 12/29"),
    ("CREDIT_CARD", lambda r: values.card(r, " "), "card {}."),
    ("CREDIT_CARD", lambda r: values.card(r, "-"), "({})"),
    ("US_SSN", values.ssn, "SSN {} on file"),
    ("IBAN", values.iban, "IBAN: {}"),
    ("IBAN", lambda r: values.iban(r, grouped=True), "pay to {}, thanks"),
    ("PHONE", values.phone, "reach me on {} tomorrow"),
    ("IP_ADDRESS", values.public_ipv4, "from {} at noon"),
    ("AWS_ACCESS_KEY", values.aws_access_key, "key {}"),
    ("AWS_SECRET_KEY", values.aws_secret_key, "aws_secret_access_key = {}\n"),
    ("OPENAI_API_KEY", values.openai_key, "OPENAI_API_KEY={}"),
    ("ANTHROPIC_API_KEY", values.anthropic_key, "client = Anthropic(api_key='{}')"),
    ("GITHUB_TOKEN", values.github_token, "token {} leaked"),
    ("GITLAB_TOKEN", values.gitlab_token, "use {} for CI"),
    ("SLACK_TOKEN", values.slack_token, "bot {}"),
    ("STRIPE_KEY", values.stripe_key, 'stripe.api_key = "{}"'),
    ("GOOGLE_API_KEY", values.google_api_key, "maps key {}"),
    ("JWT", values.jwt, "Authorization: Bearer {}"),
    ("PRIVATE_KEY", values.pem_private_key, "here it is:\n{}\nkeep it safe"),
    ("PASSWORD", values.password_value, "db_password={}\n"),
]


@pytest.mark.parametrize(
    ("entity", "make", "template"), GENERATED, ids=[f"{g[0]}-{i}" for i, g in enumerate(GENERATED)]
)
def test_generated_values_are_found(
    scrubber: Scrubber, entity: str, make: Callable[[random.Random], str], template: str
) -> None:
    rng = random.Random(RNG_SEED)
    for _ in range(25):
        assert_found(scrubber, entity, make(rng), template)


# ------------------------------------------------------------------------------------------------
# EMAIL
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["jane.doe@example.com", "j+tag@mail.example.co.uk", "x_y-z@sub-domain.io"])
def test_email_found(scrubber: Scrubber, value: str) -> None:
    assert_found(scrubber, "EMAIL", value)


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("GET /unsubscribe?email=jane.doe%40example.com&list=7", "GET /unsubscribe?email=[EMAIL]&list=7"),
        ("mail jane.doe\\u0040example.com now", "mail [EMAIL] now"),
        ("write to jane.doe&#64;example&#x2E;com", "write to [EMAIL]"),
        ("save 50% today, 100%25 sure", "save 50% today, 100%25 sure"),
    ],
)
def test_escaped_addresses_are_read_as_written_out(scrubber: Scrubber, text: str, scrubbed: str) -> None:
    # Percent escapes (URLs), HTML character references and an escaped "@" read as the characters they
    # stand for; the whole escaped address is redacted.
    assert scrubber.scrub(text).text == scrubbed


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("write to jane.doe [at] example [dot] com please", "write to [EMAIL] please"),
        ("jane(at)example(dot)co(dot)uk", "[EMAIL]"),
        ("mail jane(dot)doe(at)example(dot)com today", "mail [EMAIL] today"),
        ("john [dot] q [dot] public [at] example [dot] org", "[EMAIL]"),
        ("meet me [at] the station [dot] com", "meet me [at] the station [dot] com"),
        ("look [at] this", "look [at] this"),
    ],
)
def test_spelled_out_addresses(scrubber: Scrubber, text: str, scrubbed: str) -> None:
    assert scrubber.scrub(text).text == scrubbed


def test_a_spelled_out_address_pseudonymizes_like_the_plain_one() -> None:
    scrubber = Scrubber(
        Settings(pii_action="pseudonymize", secret_key_hex="00" * 32, scrub_timeout_ms=30_000)
    )
    plain = scrubber.scrub("jane.doe@example.com").text
    assert plain is not None
    assert plain.startswith("[EMAIL:")
    assert scrubber.scrub("Jane.Doe [at] example [dot] com").text == plain


def test_email_leading_dots_are_punctuation(scrubber: Scrubber) -> None:
    assert found(scrubber, "see ...jane@example.com") == [("EMAIL", "jane@example.com")]


@pytest.mark.parametrize("text", ["user@localhost", "a@b", "@example.com", "name@-bad-.com", "x@1.2.3.4"])
def test_email_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert [e for e, _ in found(scrubber, text)] != ["EMAIL"]


# ------------------------------------------------------------------------------------------------
# PHONE
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["+1 415-555-2671", "(415) 555-2671", "415.555.2671", "+44 20 7946 0958", "020 7946 0958",
              "+33 1 42 68 53 00", "0044 20 7946 0958", "+49 30 901820"],
)  # fmt: skip
def test_phone_found(scrubber: Scrubber, value: str) -> None:
    assert_found(scrubber, "PHONE", value, "call me at {} today")


def test_bare_digits_are_a_phone_only_with_context(scrubber: Scrubber) -> None:
    assert_found(scrubber, "PHONE", "4155552671", "my mobile is {}")
    assert_clean(scrubber, "order 4155552671 shipped")


def test_a_national_number_in_dotted_pairs_is_not_taken_for_a_date(scrubber: Scrubber) -> None:
    # Three groups make a date ("01.02.2024"); the French way of writing a number goes on for five.
    assert_found(scrubber, "PHONE", "01.42.68.53.00", "Bureau {} (Paris)")


@pytest.mark.parametrize(
    "template", ["stop sending messages to {}", "you can reach me on {}", "nobody is answering at {}"]
)
def test_local_numbers_next_to_a_messaging_word(scrubber: Scrubber, template: str) -> None:
    assert_found(scrubber, "PHONE", "463 436 698", template)


def test_six_digit_local_numbers_need_a_phone_word_and_groups(scrubber: Scrubber) -> None:
    assert_found(scrubber, "PHONE", "31 75 62", "no message on my registered {} yet")
    assert_found(scrubber, "PHONE", "45 67 89", "call me on {}")
    assert_clean(scrubber, "order 31 75 62 shipped")  # no phone word
    assert_clean(scrubber, "call 123456 to confirm")  # bare digits: a code as often as a number


@pytest.mark.parametrize(
    "text", ["on 2024-01-15 we met", "due 15/01/2024", "since 01.02.2024", "Python 3.11.2", "version 1.2.3.4.5",
             "order #123456789", "ISBN 978-3-16-148410-0", "+1 000-000-0000",
             "page 12-34-56", "in 1999-2005 and 2010-2012"],
)  # fmt: skip
def test_phone_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert "PHONE" not in [e for e, _ in found(scrubber, text)]


def test_phone_with_digits_running_on_is_redacted_whole(scrubber: Scrubber) -> None:
    assert found(scrubber, "call 415-555-2671 23 now") == [("PHONE", "415-555-2671 23")]


# ------------------------------------------------------------------------------------------------
# CREDIT_CARD
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117",
              "3530111333300000", "30569309025904", "4111.1111.1111.1111"],
)  # fmt: skip
def test_card_found(scrubber: Scrubber, value: str) -> None:
    assert_found(scrubber, "CREDIT_CARD", value)


@pytest.mark.parametrize(
    "text", ["4111 1111 1111 1112", "1234 5678 9012 3456", "0000 0000 0000 0000", "41111111111111111111111",
             "9111111111111111", "3.14159265358979323", "4.1.1.1.1.1.1.1.1.1.1.1"],
)  # fmt: skip
def test_card_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert "CREDIT_CARD" not in [e for e, _ in found(scrubber, f"number {text} here")]


def test_card_security_code_in_the_same_run_is_redacted_too(scrubber: Scrubber) -> None:
    assert found(scrubber, "card 4111 1111 1111 1111 123 ok") == [("CREDIT_CARD", "4111 1111 1111 1111 123")]


def test_twelve_digit_card_needs_context(scrubber: Scrubber) -> None:
    twelve = values.luhn_complete("50181234567")
    assert_clean(scrubber, f"ticket {twelve} closed")
    assert_found(scrubber, "CREDIT_CARD", twelve, "maestro card {}")


# ------------------------------------------------------------------------------------------------
# US_SSN
# ------------------------------------------------------------------------------------------------
def test_ssn_dashed_needs_no_context(scrubber: Scrubber) -> None:
    assert_found(scrubber, "US_SSN", "536-22-1234", "ref {} ok")


def test_ssn_undashed_needs_context(scrubber: Scrubber) -> None:
    assert_found(scrubber, "US_SSN", "536221234", "my SSN is {}")
    assert_found(scrubber, "US_SSN", "536 22 1234", "social security number {}")
    assert "US_SSN" not in [e for e, _ in found(scrubber, "invoice 536221234 paid")]


@pytest.mark.parametrize(
    "value", ["000-12-3456", "666-12-3456", "900-12-3456", "999-99-9999", "123-00-4567", "123-45-0000",
              "078-05-1120", "219-09-9999", "123-45-6789", "111-11-1111"],
)  # fmt: skip
def test_ssn_invalid_numbers(scrubber: Scrubber, value: str) -> None:
    assert "US_SSN" not in [e for e, _ in found(scrubber, f"SSN {value}")]


# ------------------------------------------------------------------------------------------------
# IBAN
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606",
              "NL91ABNA0417164300", "NO9386011117947", "CH9300762011623852957", "de89 3704 0044 0532 0130 00",
              "gb82west12345698765432"],
)  # fmt: skip
def test_iban_found(scrubber: Scrubber, value: str) -> None:
    assert_found(scrubber, "IBAN", value)


def test_iban_followed_by_a_word_is_trimmed_to_its_length(scrubber: Scrubber) -> None:
    assert found(scrubber, "to DE89 3704 0044 0532 0130 00 EUR") == [("IBAN", "DE89 3704 0044 0532 0130 00")]


@pytest.mark.parametrize(
    "text", ["DE89370400440532013001", "DE8937040044053201300", "DE893704004405320130000", "XX89370400440532013000",
             "GB82WEST12345698765433", "gb82west12345698765433", "de89370400440532013000ab"],
)  # fmt: skip
def test_iban_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert "IBAN" not in [e for e, _ in found(scrubber, f"iban {text}")]


# ------------------------------------------------------------------------------------------------
# IP_ADDRESS
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["203.0.113.7", "8.8.8.8", "10.1.2.3", "192.168.0.12", "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
              "fe80::1ff:fe23:4567:890a", "::ffff:203.0.113.9"],
)  # fmt: skip
def test_ip_found(scrubber: Scrubber, value: str) -> None:
    assert_found(scrubber, "IP_ADDRESS", value, "host {} responded")


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "0.0.0.0", "255.255.255.0", "255.255.255.255", "224.0.0.1", "::1", "::", "999.1.1.1",
             "1.2.3.4.5", "v1.2.3.4", "01.02.03.04", "12:30:45", "Feed::add", "std::vector", "00:1a:2b:3c:4d:5e",
             "ff02::1"],
)  # fmt: skip
def test_ip_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert "IP_ADDRESS" not in [e for e, _ in found(scrubber, f"see {text} now")]


# ------------------------------------------------------------------------------------------------
# URL_CREDENTIALS
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "credentials"),
    [("postgres://app:s3cret@db.internal:5432/x", "app:s3cret"), ("redis://:hunter2@cache:6379", ":hunter2"),
     ("https://user:p@ss@example.com/path", "user:p@ss")],
)  # fmt: skip
def test_url_credentials(scrubber: Scrubber, url: str, credentials: str) -> None:
    assert found(scrubber, f"connect to {url} now") == [("URL_CREDENTIALS", credentials)]


def test_url_without_credentials_is_clean(scrubber: Scrubber) -> None:
    assert_clean(scrubber, "see https://example.com/a?b=c and http://localhost:8080/x")


# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["sk-risk-assessment-for-the-quarterly-review-meeting", "task-management-service-deployment-pipeline",
             "AKIAAAAAAAAAAAAAAAAA", "ghp_short", "glpat-", "xoxb-not-a-token", "sk_live_", "AIzaShort",
             "123e4567-e89b-12d3-a456-426614174000", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"],
)  # fmt: skip
def test_secret_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert_clean(scrubber, f"value {text} here")


def test_git_sha_near_aws_word_is_not_a_secret_key(scrubber: Scrubber) -> None:
    assert_clean(scrubber, "aws deploy of commit 9fceb02d0ae598e95dc970b74767f19372d61af8 done")


def test_aws_secret_key_needs_context(scrubber: Scrubber) -> None:
    key = values.aws_secret_key(random.Random(1))
    assert_clean(scrubber, f"blob {key} end")


def test_anthropic_key_is_not_reported_as_openai(scrubber: Scrubber) -> None:
    key = values.anthropic_key(random.Random(2))
    assert found(scrubber, f"key={key}") == [("ANTHROPIC_API_KEY", key)]


def test_jwt_header_must_name_an_algorithm(scrubber: Scrubber) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"typ": "JWT"}).encode()).rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"sub":"1"}').rstrip(b"=").decode()
    assert_clean(scrubber, f"x {header}.{payload}.c2lnbmF0dXJl y")


def test_jwt_with_a_long_payload_is_redacted_whole(scrubber: Scrubber) -> None:
    token = values.jwt(random.Random(3))
    header, payload, signature = token.split(".")
    long_token = f"{header}.{payload * 3000}.{signature}"
    result = scrubber.scrub(f"Bearer {long_token} end")
    assert result.text == "Bearer [JWT] end"


def test_private_key_whole_block_and_truncated_block(scrubber: Scrubber) -> None:
    block = values.pem_private_key(random.Random(4))
    assert scrubber.scrub(f"a\n{block}\nb").text == "a\n[PRIVATE_KEY]\nb"
    truncated = block[: len(block) // 2]
    result = scrubber.scrub(f"key:\n{truncated}")
    assert result.text == "key:\n[PRIVATE_KEY]"


@pytest.mark.parametrize(
    "text", ["password: ${DB_PASSWORD}", "password=os.environ['DB']", "secret: ********", "password=12345678",
             "token: abc", "passwd: settings.db.password", "api_key = get_key()", "max_tokens: 4096",
             "bypass=aB3dE5gH7jK9"],
)  # fmt: skip
def test_password_lookalikes(scrubber: Scrubber, text: str) -> None:
    assert_clean(scrubber, text)


@pytest.mark.parametrize(
    "text",
    ["password=Tr0ub4dor&3x", "PASSWD: 'hX9#kq2Lm'", '{"api_key": "a8F3kLm29XqP0z"}', "secret:  Zq8mN2pLx7"],
)
def test_password_assignments(scrubber: Scrubber, text: str) -> None:
    assert [e for e, _ in found(scrubber, text)] == ["PASSWORD"]
    result = scrubber.scrub(text)
    assert result.text is not None
    assert "[PASSWORD]" in result.text


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("password: QcYgqnavX3( later", "password: [PASSWORD] later"),  # punctuation after a secret
        ('secret = get_secret("db")', 'secret = get_secret("db")'),  # a call cut at its quoted argument
    ],
)
def test_a_value_ending_in_an_open_bracket(scrubber: Scrubber, text: str, scrubbed: str) -> None:
    assert scrubber.scrub(text).text == scrubbed


def test_unallocated_ipv6_space_still_counts(scrubber: Scrubber) -> None:
    assert_found(scrubber, "IP_ADDRESS", "d5f3:f123:456e:f7f8:b9d0:b1f2:3dc4:b567", "peer {} dropped")


@pytest.mark.parametrize("text", ["at 12:48:31.445000 UTC", "ratio 31.445000 today", "pi is 3.14159265"])
def test_decimals_and_times_are_not_phones(scrubber: Scrubber, text: str) -> None:
    assert "PHONE" not in [e for e, _ in found(scrubber, f"phone list: {text}")]


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("Authorization: Basic YWRtaW46VHIwdWI0ZG9yJjN4eXo=", "Authorization: Basic [AUTH_CREDENTIALS]"),
        (
            'curl -H "Authorization: Bearer 8f1c2e9a7b6d5c4e3f2a1b0c9d8e7f6a" https://api.example.com',
            'curl -H "Authorization: Bearer [AUTH_CREDENTIALS]" https://api.example.com',
        ),
        ('{"Authorization": "Token 9a8b7c6d5e4f3a2b1c0d"}', '{"Authorization": "Token [AUTH_CREDENTIALS]"}'),
        ("Authorization: Bearer <token>", "Authorization: Bearer <token>"),
        ("Authorization: Bearer $TOKEN", "Authorization: Bearer $TOKEN"),
        ("Authorization: Bearer YOUR_API_KEY", "Authorization: Bearer YOUR_API_KEY"),
        ("the Bearer of bad news", "the Bearer of bad news"),
    ],
)
def test_authorization_credentials(scrubber: Scrubber, text: str, scrubbed: str) -> None:
    assert scrubber.scrub(text).text == scrubbed


def test_a_long_bearer_token_is_redacted_whole(scrubber: Scrubber) -> None:
    rng = random.Random(7)
    token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(3000))
    result = scrubber.scrub(f"Authorization: Bearer {token} end")
    assert result.text == "Authorization: Bearer [AUTH_CREDENTIALS] end"


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("my password is Tr0ub4dor&3xyz ok", "my password is [PASSWORD] ok"),
        ("the password for my bank account is Xk9mP2qLz!", "the password for my bank account is [PASSWORD]"),
        ("The password is: Xk9mP2qL", "The password is: [PASSWORD]"),
        ("The password is case-sensitive.", "The password is case-sensitive."),
        ("Your password is required to continue", "Your password is required to continue"),
        ("the password is what you set at signup", "the password is what you set at signup"),
    ],
)
def test_passwords_stated_in_prose(scrubber: Scrubber, text: str, scrubbed: str) -> None:
    assert scrubber.scrub(text).text == scrubbed
