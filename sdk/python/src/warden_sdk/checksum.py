"""Check-digit algorithms identifiers use, so a detector reports numbers that are valid, not
merely number-shaped. The same rules as the Rust SDK's ``checksum`` module: decimal digits (and,
for IBANs, ASCII letters) count, the separators space, ``-`` and ``.`` are skipped wherever they
occur, and any other character makes the identifier invalid."""

from __future__ import annotations

from typing import Callable

#: The characters the text functions skip.
SEPARATORS = " -."


def digits(s: str) -> list[int] | None:
    """The decimal digits of ``s`` as values 0-9, skipping separators; ``None`` otherwise."""
    out: list[int] = []
    for c in s:
        if "0" <= c <= "9":
            out.append(ord(c) - 48)
        elif c not in SEPARATORS:
            return None
    return out


def luhn(s: str) -> bool:
    """Luhn (mod 10): payment cards, IMEI numbers, Canadian SINs."""
    d = digits(s)
    return d is not None and luhn_digits(d)


def luhn_digits(d: list[int]) -> bool:
    """:func:`luhn` on digits already extracted; fewer than two digits is invalid."""
    if len(d) < 2 or any(not 0 <= x <= 9 for x in d):
        return False
    total = 0
    for i, x in enumerate(reversed(d)):
        v = x * 2 if i % 2 == 1 else x
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def iban_mod97(s: str) -> bool:
    """ISO 7064 mod 97-10 as IBANs use it (letters in either case, separators allowed)."""
    compact = []
    for c in s:
        if c in SEPARATORS:
            continue
        if not (c.isascii() and c.isalnum()):
            return False
        compact.append(c.upper())
    if len(compact) < 5:
        return False
    rearranged = compact[4:] + compact[:4]
    rem = 0
    for c in rearranged:
        v = ord(c) - 48 if c.isdigit() else ord(c) - 55
        rem = (rem * (100 if v > 9 else 10) + v) % 97
    return rem == 1


def mod11(body: str, weights: list[int], check: Callable[[int], int | None]) -> int | None:
    """Weighted mod 11: the digits of ``body`` times ``weights``, summed; ``check(sum % 11)``
    gives the expected check digit, or ``None`` when that remainder is not allowed."""
    d = digits(body)
    if d is None or len(d) != len(weights):
        return None
    return check(sum(x * w for x, w in zip(d, weights)) % 11)


def mod11_valid(s: str, weights: list[int], check: Callable[[int], int | None]) -> bool:
    """Whether the last digit of ``s`` is the :func:`mod11` check digit of the ones before."""
    d = digits(s)
    if not d:
        return False
    return mod11("".join(map(str, d[:-1])), weights, check) == d[-1]


_V_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_V_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff(s: str) -> bool:
    """Verhoeff's dihedral check (Indian Aadhaar numbers, among others)."""
    d = digits(s)
    if not d or len(d) < 2:
        return False
    c = 0
    for i, x in enumerate(reversed(d)):
        c = _V_D[c][_V_P[i % 8][x]]
    return c == 0
