"""Vectorised keyed pseudonymisation of Arrow identifier columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

import pyarrow as pa

from bastide.pseudonym.routes import NativeRoute, PureRoute, Result, Route, native_available
from bastide.pseudonym.scheme import (
    PSEUDONYM_CHARS,
    PseudonymError,
    digest,
    domain_key,
    pseudonym_of,
)

if TYPE_CHECKING:
    from bastide.hub import Hub

# An output Array of 32-char strings must keep its int32 offsets below 2**31.
MAX_ROWS_PER_ARRAY = (2**31 - 1) // PSEUDONYM_CHARS

Values: TypeAlias = "pa.Array | pa.ChunkedArray"


class Pseudonymiser:
    """Replaces identifiers by keyed pseudonyms within one domain.

    ``pseudonymise`` gives 32-hex-char text pseudonyms, ``person_id`` 63-bit integers from
    the same digest. Null or blank identifiers give null. An Array in gives an Array out
    (a ChunkedArray beyond ``MAX_ROWS_PER_ARRAY`` rows); a ChunkedArray gives a ChunkedArray.
    """

    def __init__(
        self,
        key: bytes,
        domain: str,
        *,
        route: Literal["auto", "native", "pure"] = "auto",
        threads: int | None = None,
    ) -> None:
        self.domain = domain
        self._key_d = domain_key(key, domain)
        self._route: Route
        if route == "native" or (route == "auto" and native_available()):
            try:
                self._route = NativeRoute(self._key_d, threads)
            except RuntimeError as exc:
                raise PseudonymError(f"{exc}; run 'uv sync' with gcc and libssl-dev") from exc
        elif route in ("auto", "pure"):
            self._route = PureRoute(self._key_d)
        else:
            raise PseudonymError(f"unknown route {route!r} (expected auto, native or pure)")

    @classmethod
    def for_hub(cls, hub: Hub, domain: str, **options: object) -> Pseudonymiser:
        """A pseudonymiser under the hub secret ``hub.data_key("pseudonym")``."""
        return cls(hub.data_key("pseudonym"), domain, **options)  # type: ignore[arg-type]

    @property
    def route(self) -> str:
        return self._route.name

    def __repr__(self) -> str:  # never shows key material
        return f"Pseudonymiser(domain={self.domain!r}, route={self.route!r})"

    # -- one value --------------------------------------------------------------------
    def pseudonym(self, value: str | None) -> str | None:
        d = digest(self._key_d, value)
        return None if d is None else pseudonym_of(d)

    # -- columns ----------------------------------------------------------------------
    def pseudonymise(self, values: Values) -> Values:
        """32 lower-case hex chars (128 bits) per identifier; null for null or blank."""
        return self._apply(values, text=True, ids=False)[0]

    def person_id(self, values: Values) -> Values:
        """A non-negative 63-bit int64 per identifier (OMOP person_id); null for null."""
        return self._apply(values, text=False, ids=True)[1]

    def pseudonymise_with_ids(self, values: Values) -> tuple[Values, Values]:
        """Both columns from one pass over the digests."""
        return self._apply(values, text=True, ids=True)  # type: ignore[return-value]

    def _apply(self, values: Values, *, text: bool, ids: bool) -> tuple[Values | None, ...]:
        if isinstance(values, pa.ChunkedArray):
            parts = [self._pieces(chunk, text, ids) for chunk in values.chunks]
            flat = [piece for pieces in parts for piece in pieces]
            return tuple(
                pa.chunked_array([p[i] for p in flat], type=t) if want else None
                for i, (want, t) in enumerate(((text, pa.string()), (ids, pa.int64())))
            )
        if not isinstance(values, pa.Array):
            raise PseudonymError(
                f"expected an Arrow Array or ChunkedArray, got {type(values).__name__}"
            )
        pieces = self._pieces(values, text, ids)
        if len(pieces) == 1:
            return pieces[0]
        return tuple(
            pa.chunked_array([p[i] for p in pieces]) if want else None
            for i, want in enumerate((text, ids))
        )

    def _pieces(self, values: pa.Array, text: bool, ids: bool) -> list[Result]:
        if pa.types.is_dictionary(values.type):
            # Each distinct identifier once, then spread back over the rows.
            dict_text, dict_ids = self._apply(values.dictionary, text=text, ids=ids)
            idx = values.indices
            return [
                (
                    dict_text.take(idx) if dict_text is not None else None,  # type: ignore[union-attr]
                    dict_ids.take(idx) if dict_ids is not None else None,  # type: ignore[union-attr]
                )
            ]
        values = _as_text(values)
        return [
            self._route.run(values.slice(start, MAX_ROWS_PER_ARRAY), text, ids)
            for start in range(0, max(len(values), 1), MAX_ROWS_PER_ARRAY)
        ]


def _as_text(values: pa.Array) -> pa.Array:
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return values
    if pa.types.is_null(t):
        return values.cast(pa.string())
    if pa.types.is_string_view(t):
        return values.cast(pa.large_string())
    raise PseudonymError(
        f"cannot pseudonymise a column of type {t}: identifiers must be read as text "
        "(an integer type would already have lost leading zeros)"
    )
