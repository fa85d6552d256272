import pytest

from hearth.passwords import hash_password, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    password_hash = hash_password("correct horse")

    assert verify_password("correct horse", password_hash)
    assert not verify_password("correct horsE", password_hash)
    assert "correct horse" not in password_hash


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize(
    "password_hash",
    [
        "",
        "plain text",
        "bcrypt$16384$8$1$c2FsdA==$ZGlnZXN0",
        "scrypt$many$8$1$c2FsdA==$ZGlnZXN0",
        "scrypt$16384$8$1$not base64$ZGlnZXN0",
        "scrypt$1000$8$1$c2FsdA==$ZGlnZXN0",  # cost must be a power of two
    ],
)
def test_a_malformed_hash_verifies_nothing(password_hash: str) -> None:
    assert not verify_password("anything", password_hash)
