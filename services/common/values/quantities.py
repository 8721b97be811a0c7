"""Quantities are decimal strings with at most two places; stored as integer hundredths.

Redis and Lua only do integer-exact arithmetic below 2**53, so every quantity crosses into the
store as an integer count of hundredths and comes back out as a decimal string.
"""
from decimal import Decimal, InvalidOperation

HUNDREDTHS = Decimal("0.01")
MAX_QUANTITY = Decimal("1000000000000")  # far below 2**53 hundredths


def parse_quantity(raw: str | int | Decimal) -> Decimal:
    """A positive decimal with at most two places, or ValueError saying why not."""
    if isinstance(raw, float) or isinstance(raw, bool):
        raise ValueError("quantity must be a decimal string such as \"1500.50\", not a float")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"quantity {raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError("quantity must be a finite number")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("quantity has more than 2 decimal places")
    if value <= 0:
        raise ValueError("quantity must be greater than 0")
    if value > MAX_QUANTITY:
        raise ValueError(f"quantity must be at most {MAX_QUANTITY}")
    return value


def to_hundredths(value: Decimal) -> int:
    return int((value / HUNDREDTHS).to_integral_exact())


def from_hundredths(count: int | str) -> str:
    return str((Decimal(int(count)) * HUNDREDTHS).quantize(HUNDREDTHS))
