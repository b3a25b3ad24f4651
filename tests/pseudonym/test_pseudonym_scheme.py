"""Every pseudonym equals Python's ``hmac`` over the normalised value under the domain key,
whichever route computes it; same key links, another key or domain does not."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastide.pseudonym import PERSON, PROVIDER, PseudonymError, Pseudonymiser, native_available
from bastide.pseudonym.scheme import SCHEME

KEY = bytes(range(32))
ROUTES = ["native", "pure"]

# Identifier-like text: digits and letters, with ASCII and other whitespace, any Unicode.
identifiers = st.one_of(
    st.none(),
    st.from_regex(r"[ \t]*[0-9A-Za-z]{0,20}[ \n]*", fullmatch=True),
    st.text(max_size=80),
)


def expected(key: bytes, domain: str, value: str | None) -> bytes | None:
    """The scheme written out with the standard library only."""
    if value is None:
        return None
    norm = value.encode("utf-8").strip(b" \t\n\r\x0b\x0c").upper()
    if not norm:
        return None
    key_d = hmac.new(key, f"{SCHEME}/{domain}".encode(), hashlib.sha256).digest()
    return hmac.new(key_d, norm, hashlib.sha256).digest()


def test_native_route_is_built() -> None:
    # uv sync compiles it (hatch_build.py); without it throughput drops ~8x.
    assert native_available(), "run 'uv sync' on a machine with gcc and libssl-dev"


@pytest.mark.parametrize("route", ROUTES)
@settings(max_examples=150, deadline=None)
@given(values=st.lists(identifiers, max_size=60), key=st.binary(min_size=16, max_size=100))
def test_every_output_is_the_hmac_of_the_normalised_value(
    route: str, values: list[str | None], key: bytes
) -> None:
    p = Pseudonymiser(key, PERSON, route=route)  # type: ignore[arg-type]
    text, ids = p.pseudonymise_with_ids(pa.array(values, pa.string()))
    for value, got_text, got_id in zip(values, text.to_pylist(), ids.to_pylist(), strict=True):
        d = expected(key, PERSON, value)
        if d is None:
            assert got_text is None and got_id is None
        else:
            assert got_text == d[:16].hex()
            assert got_id == int.from_bytes(d[:8], "big") & (2**63 - 1)
            assert 0 <= got_id < 2**63 and int(got_text[:16], 16) & (2**63 - 1) == got_id


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(identifiers, min_size=1, max_size=300),
    start=st.integers(0, 50),
    large=st.booleans(),
)
def test_native_and_pure_routes_agree_on_sliced_and_large_arrays(
    values: list[str | None], start: int, large: bool
) -> None:
    arr = pa.array(values, pa.large_string() if large else pa.string())
    arr = arr.slice(min(start, len(values)))  # a non-zero offset into the buffers
    native = Pseudonymiser(KEY, PERSON, route="native").pseudonymise_with_ids(arr)
    pure = Pseudonymiser(KEY, PERSON, route="pure").pseudonymise_with_ids(arr)
    assert native[0].equals(pure[0]) and native[1].equals(pure[1])


def test_native_threads_agree_with_one_thread() -> None:
    values = pa.array([f"{i:013d}" if i % 7 else None for i in range(200_000)])
    one = Pseudonymiser(KEY, PERSON, route="native", threads=1).pseudonymise(values)
    two = Pseudonymiser(KEY, PERSON, route="native", threads=2).pseudonymise(values)
    assert one.equals(two) and one.null_count == len(values) // 7 + 1


@pytest.mark.parametrize("route", ROUTES)
def test_dcir_pmsi_and_hospital_ids_link_after_normalisation(route: str) -> None:
    p = Pseudonymiser(KEY, PERSON, route=route)  # type: ignore[arg-type]
    # The same person as BEN_NIR_PSA (DCIR), NIR_ANO_17 (PMSI) and a hospital chaining id.
    same = pa.array(["1a2b3c4d5e6f7g8h9", " 1A2B3C4D5E6F7G8H9", "1a2B3c4D5e6F7g8H9\t"])
    assert len(set(p.pseudonymise(same).to_pylist())) == 1
    assert len(set(p.person_id(same).to_pylist())) == 1


@pytest.mark.parametrize("route", ROUTES)
def test_null_and_blank_stay_null(route: str) -> None:
    p = Pseudonymiser(KEY, PERSON, route=route)  # type: ignore[arg-type]
    out = p.pseudonymise(pa.array([None, "", "   ", "\t\n", "x"]))
    assert out.to_pylist()[:4] == [None] * 4 and out[4].is_valid
    assert p.person_id(pa.array([None, " "], pa.string())).null_count == 2
    assert p.pseudonymise(pa.nulls(3)).null_count == 3
    assert len(p.pseudonymise(pa.array([], pa.string()))) == 0


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.text(min_size=1, max_size=20).filter(str.strip), min_size=1, max_size=50),
    k1=st.binary(min_size=32, max_size=32),
    k2=st.binary(min_size=32, max_size=32),
)
def test_same_key_links_other_keys_and_domains_do_not(
    values: list[str], k1: bytes, k2: bytes
) -> None:
    arr = pa.array(values)
    a = Pseudonymiser(k1, PERSON).pseudonymise(arr).to_pylist()
    assert a == Pseudonymiser(k1, PERSON).pseudonymise(arr).to_pylist()
    if k1 != k2:  # no pseudonym of one key appears among those of the other
        assert not set(a) & set(Pseudonymiser(k2, PERSON).pseudonymise(arr).to_pylist())
    assert not set(a) & set(Pseudonymiser(k1, PROVIDER).pseudonymise(arr).to_pylist())


def test_chunked_and_dictionary_columns() -> None:
    p = Pseudonymiser(KEY, PERSON)
    flat = pa.array(["a", None, "b", "a", "c"])
    chunked = pa.chunked_array([flat.slice(0, 2), flat.slice(2)])
    out = p.pseudonymise(chunked)
    assert isinstance(out, pa.ChunkedArray) and out.num_chunks == 2
    assert out.combine_chunks().equals(p.pseudonymise(flat))
    assert p.pseudonymise(flat.dictionary_encode()).equals(p.pseudonymise(flat))
    assert p.pseudonymise(flat.cast(pa.string_view())).to_pylist() == out.to_pylist()
    assert p.pseudonym(" a ") == out[0].as_py() and p.pseudonym(None) is None


def test_refuses_weak_keys_bad_domains_and_non_text_columns() -> None:
    with pytest.raises(PseudonymError, match="at least 16"):
        Pseudonymiser(b"short", PERSON)
    with pytest.raises(PseudonymError, match="invalid pseudonym domain"):
        Pseudonymiser(KEY, "Person/../x")
    with pytest.raises(PseudonymError, match="read as text"):
        Pseudonymiser(KEY, PERSON).pseudonymise(pa.array([1234567890123]))
    assert "KEY" not in repr(Pseudonymiser(KEY, PERSON)) and KEY.hex() not in repr(
        Pseudonymiser(KEY, PERSON)
    )


def test_hub_secret_is_the_key(tmp_path) -> None:
    from bastide.hub import Hub

    hub = Hub.init(tmp_path / "hub")
    p = Pseudonymiser.for_hub(hub, PERSON)
    d = expected(hub.data_key("pseudonym"), PERSON, "1234567890123")
    assert d is not None and p.pseudonym("1234567890123") == d[:16].hex()


def test_every_length_across_sha256_block_boundaries() -> None:
    values = ["9" * n for n in range(0, 140)] + ["é" * n for n in range(20, 40)]
    native = Pseudonymiser(KEY, PERSON, route="native").pseudonymise(pa.array(values))
    for value, got in zip(values, native.to_pylist(), strict=True):
        d = expected(KEY, PERSON, value)
        assert got == (None if d is None else d[:16].hex()), len(value)


def test_builder_compiles_a_loadable_library(tmp_path, monkeypatch) -> None:
    import ctypes

    from bastide.pseudonym import native_build, routes

    target = tmp_path / "lib.so"
    monkeypatch.setattr(native_build, "LIBRARY", target)
    assert native_build.build(warn=pytest.fail) == target
    assert ctypes.CDLL(str(target)).bastide_hmac_abi() == routes.ABI
