"""Reading dates of birth and registration numbers the ways people type them."""

from __future__ import annotations

import pytest

from intake.registration import (
    DAY, MONTH, YEAR, DateOfBirth, normalise_number, read_date_of_birth, read_recorded_date_of_birth,
)


@pytest.mark.parametrize("typed, value, precision", [
    ("17-04-1990", "1990-04-17", DAY),
    ("17/4/1990", "1990-04-17", DAY),
    ("17.4.1990", "1990-04-17", DAY),
    ("17 4 1990", "1990-04-17", DAY),
    ("1990-04-17", "1990-04-17", DAY),
    ("1990/4/17", "1990-04-17", DAY),
    ("၁၇-၀၄-၁၉၉၀", "1990-04-17", DAY),  # Myanmar digits
    ("႑႗/႐႔/႑႙႙႐", "1990-04-17", DAY),  # Shan digits
    ("4/17/1990", "1990-04-17", DAY),  # US order, unambiguous because no month is 17
    ("05/04/1990", "1990-04-05", DAY),  # ambiguous: day first
    ("4/1990", "1990-04", MONTH),
    ("1990-04", "1990-04", MONTH),
    ("1990", "1990", YEAR),
    ("၁၉၉၀", "1990", YEAR),
])
def test_dates_of_birth_as_people_write_them(typed, value, precision):
    assert read_date_of_birth(typed) == DateOfBirth(value, precision)


@pytest.mark.parametrize("typed", ["", "hello", "31-02-1990", "17-13-1990", "90", "17-04-90", "1-2-3-1990",
                                   "1750", "17-04-1990 extra", "²⁰-04-1990", "1990-04-99999999999999999999"])
def test_what_is_not_a_date_of_birth(typed):
    assert read_date_of_birth(typed) is None


def test_a_date_says_itself_at_the_precision_on_record():
    born = DateOfBirth("1990-04-17", DAY)
    assert (born.at(DAY), born.at(MONTH), born.at(YEAR)) == ("1990-04-17", "1990-04", "1990")
    assert DateOfBirth("1990", YEAR).at(DAY) is None  # a year alone cannot prove a full date


@pytest.mark.parametrize("recorded, expected", [
    ("1990-04-17", DateOfBirth("1990-04-17", DAY)), ("1990-04", DateOfBirth("1990-04", MONTH)),
    ("1990", DateOfBirth("1990", YEAR)), ("17-04-1990", None), ("1990-02-30", None), ("", None),
])
def test_dates_of_birth_as_the_import_file_holds_them(recorded, expected):
    assert read_recorded_date_of_birth(recorded) == expected


@pytest.mark.parametrize("typed", ["MMR-17-000123", "mmr 17 000123", "mmr17000123", "MMR/17/000123",
                                   "mmr-၁၇-၀၀၀၁၂၃", "ＭＭＲ-17-000123"])
def test_registration_numbers_compare_without_case_spaces_or_dashes(typed):
    assert normalise_number(typed) == "MMR17000123"


class _Languages:
    """The part of the engine's context that need matching reads: every shipped catalog."""

    def __init__(self):
        from i18n.catalogs import Catalogs

        catalogs = Catalogs()
        self.languages, self.translate = catalogs.shipped, catalogs.translate


@pytest.mark.parametrize("text, codes", [
    ("I am ill", ["SM"]),
    ("I will still go to the village", []),  # "ill" inside words is no illness
    ("we sell grapes", []),
    ("My mother cannot walk and I am pregnant", ["DS", "PG"]),
    ("ကျွန်မ ကိုယ်ဝန်ရှိနေပါတယ်", ["PG"]),  # Burmese, written without spaces
    ("the army operation burned our village", []),
])
def test_needs_in_plain_words_map_to_need_groups(text, codes):
    from intake.validators import declared_needs

    assert declared_needs(text, _Languages()) == codes


def test_right_details_waiting_for_their_code_prove_nothing():
    from intake.registration import IDENTITY, NotProved, identity_of, proved_registration

    assert proved_registration({IDENTITY: identity_of(7, proved=True)}) == 7
    for draft in ({}, {IDENTITY: identity_of(7, proved=False)}):
        with pytest.raises(NotProved):
            proved_registration(draft)
