from decimal import Decimal

import pytest

from services.common.values.quantities import from_hundredths, parse_quantity, to_hundredths


@pytest.mark.parametrize("raw, expected", [("1500.50", "1500.50"), ("20", "20"), (3, "3"),
                                           (" 0.01 ", "0.01")])
def test_accepts_positive_decimals_with_two_places_at_most(raw, expected):
    assert parse_quantity(raw) == Decimal(expected)


@pytest.mark.parametrize("raw, reason", [
    ("0", "greater than 0"), ("-1", "greater than 0"), ("1.234", "2 decimal places"),
    ("abc", "not a decimal"), (1.5, "not a float"), ("NaN", "finite"),
    ("1e20", "at most"),
])
def test_refuses_what_is_not_a_quantity(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_quantity(raw)


def test_hundredths_round_trip_exactly():
    for text in ("0.01", "1500.50", "999999999.99"):
        assert from_hundredths(to_hundredths(Decimal(text))) == Decimal(text).quantize(
            Decimal("0.01")).to_eng_string()
    assert to_hundredths(Decimal("0.1")) + to_hundredths(Decimal("0.2")) == 30
