"""Detector fixes from the external accuracy check (`test_external_cases.py`), one test each, from the vendors'
and standards' formats rather than from the upstream cases."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shareguard.sensitive import validators
from shareguard.sensitive.engine import engine


def _ids(text: str) -> set[str]:
    return {h.detector.id for h in engine().scan(text.encode())}


def test_maestro_dankort_and_uatp_cards_pass_the_iin_check() -> None:
    # Maestro (50, 56-69) and UATP (15 digits, major industry identifier 1), Luhn-valid
    for number in ("5019717010103742", "6759649826438453", "6304000000000000", "122000000000003"):
        assert validators.credit_card(number), number
    assert not validators.credit_card("1220000000000037")  # 16 digits: no UATP card
    assert not validators.credit_card("7000000000000005")  # 7: no card issuer


def test_ssn_with_dots_or_spaces_one_separator_throughout() -> None:
    assert "us_ssn" in _ids("ssn 536.22.8726 on file")
    assert "us_ssn" in _ids("ssn 536 22 8726 on file")
    assert "us_ssn" in _ids("ssn 536-22-8726.")
    assert "us_ssn" not in _ids("ssn 536-22.8726")
    assert "us_ssn" not in _ids("ssn 536.22.8726.1")
    assert not validators.us_ssn("666.22.8726") and not validators.us_ssn("536 00 8726")


def test_nino_in_lower_case() -> None:
    assert "gb_nino" in _ids("national insurance: ab 12 34 56 c")
    assert "gb_nino" not in _ids("national insurance: bg 12 34 56 c")  # an unallocated prefix


def test_ipv6_head_of_an_ipv4_embedded_address_is_no_address() -> None:
    assert "ipv6_public" not in _ids("via 64:ff9b::198.51.100.1 today")
    assert "ipv6_public" in _ids("via 2a00:1450:4001:82b::200e. today")


def test_slack_legacy_xoxo_tokens() -> None:
    assert "slack_token" in _ids("token xoxo-523423-234243-234233-e039d02840a0b9379c")


def test_openai_project_keys_carry_the_openai_marker() -> None:
    body = "Xi8tdMjHV6pmbBbwilTe"
    assert "openai_api_key" in _ids(f"key sk-proj-{body}T3BlbkFJ{body[::-1]}")
    assert "openai_api_key" not in _ids(f"key sk-proj-{body}T4BlbkFJ{body[::-1]}")
    assert "openai_api_key" in _ids(f"key sk-svcacct-{body * 3}T3BlbkFJ{body * 3}")


def test_pypi_tokens_of_pypi_and_test_pypi_and_their_minimum_length() -> None:
    tail = "CJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsibWluaW1hbC1wcm9qZWN0Il1dAAIsWzIsWyJjYWY4OTAwZi"
    assert "pypi_token" in _ids(f"password = pypi-AgEIcHlwaS5vcmc{tail}")
    assert "pypi_token" in _ids(f"password = pypi-AgENdGVzdC5weXBpLm9yZw{tail}")
    assert "pypi_token" not in _ids(f"password = pypi-AgEIcHlwaS5vcmc{tail[:60]}")


def test_token_body_after_the_prefix_only() -> None:
    # GitLab bodies hold `_` and `-`: the body is what follows the prefix's first separator
    assert validators.not_repetitive("glpat-hellOworld380_testin")
    assert validators.not_repetitive("gldt-HwllOuhfw-wu0rlD_yep")
    assert not validators.not_repetitive("glpat-xxxxxxxxxxxxxxxxxxxx")
    assert not validators.not_repetitive("hf_" + "ab" * 17)


def test_slack_app_level_tokens_and_placeholders() -> None:
    app = "xapp-1-A052FGTS2DL-5171572773297-" + "610b6a11f4b7eb819e87b767d80e6575"
    assert "slack_token" in _ids(f"token: {app}")
    for fake in (
        "xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx",
        "xoxp-1234567890",
        "xoxb-12345-abcd234",
        "xoxb-my-bot-token-here",
    ):
        assert "slack_token" not in _ids(f"token: {fake}"), fake


def test_slack_token_validator_wants_ids_or_a_long_body() -> None:
    assert validators.slack_token("xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1")
    assert validators.slack_token("xoxe-1-" + "My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUx" * 4)
    assert not validators.slack_token("xoxe-1-SlackAppConfigurationAccessTokenHere")
    assert not validators.slack_token("xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d")  # ids too short
    assert not validators.slack_token("xoxp-572370529330-573807301142-572331691188-")


def test_anthropic_keys_end_in_aa_after_93_characters() -> None:
    body = ("Ab1Cd2Ef3Gh4-_" * 7)[:93]
    assert "anthropic_api_key" in _ids(f"key sk-ant-api03-{body}AA")
    assert "anthropic_api_key" in _ids(f"key sk-ant-admin01-{body}AA")
    assert "anthropic_api_key" not in _ids(f"key sk-ant-api03-{body}BB")
    assert "anthropic_api_key" not in _ids(f"key sk-ant-api03-{body[:60]}AA")


def test_hugging_face_organization_tokens() -> None:
    assert "huggingface_token" in _ids("token = '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'")
    assert "huggingface_token" not in _ids("token = 'api_org_" + "X" * 34 + "'")
    assert "huggingface_token" not in _ids("const api_org_controller = require('x');")


def test_entra_client_secrets_of_any_version_digit() -> None:
    assert "azure_client_secret" in _ids("ClientSecret '2Vq7Q~q5VgKljZ7cb3.0sp0Apz.vOjRIPyeTr'")
    assert "azure_client_secret" in _ids("client_secret=bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR")
    assert "azure_client_secret" not in _ids("client_secret=bP88Q~" + "x" * 34)


def test_iban_at_a_bank_python_stdnum_does_not_list() -> None:
    assert validators.iban("BE68539007547034")  # the ECBS register's example: mod 97 and Belgian check digits hold
    assert not validators.iban("BE68539007547035")  # mod 97 fails
    assert not validators.iban("BE71096123456760")  # one digit changed


def test_google_api_keys_exactly_35_characters_and_no_placeholder_runs() -> None:
    assert "google_api_key" in _ids("key=AIzaSyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk-")
    assert "google_api_key" in _ids("key=AIzaSyA-HAZt9xslXTTIQrh6bpy0VAq3GZuO2R8 ok")
    assert "google_api_key" not in _ids("key=AIzaSyA-HAZt9xslXTTIQrh6bpy0VAq3GZuO2R8abc")  # too long for a key
    assert "google_api_key" not in _ids("key=AIzaSyabcdefghijklmnopqrstuvwxyz1234567")
    assert not validators.not_sequential("AIza" + "a" * 35)
    assert not validators.not_sequential("AIzaSyA-1234567890" + "Xq7Lm2Rt9Wb3Vn8Kc4Zp1")


@settings(deadline=None)
@given(st.text(max_size=300))
def test_new_validators_take_any_text(text: str) -> None:
    """They run on whatever a pattern matched: any text gives a yes or a no, never an exception."""
    assert isinstance(validators.slack_token(text), bool)
    assert isinstance(validators.not_sequential(text), bool)
    assert isinstance(validators.iban(text), bool)
