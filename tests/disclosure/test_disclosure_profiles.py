"""Rule profiles: the built-in ones, configuration, validation."""

from __future__ import annotations

import pytest

from bastide.disclosure import ACRO, OPENSAFELY, SNDS, Profile, ProfileError, Profiles


def test_builtin_profiles() -> None:
    assert (SNDS.threshold, SNDS.rounding, SNDS.zeros) == (11, 1, "allow")
    assert [v for v in range(0, 12) if SNDS.too_small(v)] == list(range(1, 11))
    assert (OPENSAFELY.threshold, OPENSAFELY.rounding) == (8, 5)
    assert [v for v in range(0, 12) if OPENSAFELY.too_small(v)] == list(range(1, 8))
    assert [OPENSAFELY.round(v) for v in (8, 12, 13, 117)] == [10, 10, 15, 115]
    assert (ACRO.threshold, ACRO.dominance_n, ACRO.dominance_k, ACRO.p_percent) == (
        10,
        2,
        0.9,
        0.1,
    )
    assert ACRO.zeros == "suppress"


def test_configuration_adjusts_and_adds_profiles() -> None:
    profiles = Profiles.from_config(
        {
            "default_profile": "strict",
            "profiles": {
                "snds": {"threshold": 12},
                "strict": {"extends": "hub", "rounding": 5},
                "hub": {"extends": "acro", "threshold": 15, "zeros": "flag"},
                "plain": {"threshold": 5},
            },
        }
    )
    assert profiles.get("snds").threshold == 12
    strict = profiles.get()
    assert (strict.name, strict.threshold, strict.rounding, strict.zeros) == (
        "strict",
        15,
        5,
        "flag",
    )
    assert strict.dominance_k == 0.9
    assert profiles.get("plain").dominance_n is None
    assert Profiles.from_config(None).get().name == "snds"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"profiles": {"x": {"rounding": 5}}}, "give a threshold"),
        ({"profiles": {"x": {"threshold": 0}}}, "threshold must be an integer of at least 1"),
        ({"profiles": {"x": {"threshold": 10, "zeros": "maybe"}}}, "zeros must be one of"),
        ({"profiles": {"x": {"threshold": 10, "size": 3}}}, "unknown setting size"),
        ({"profiles": {"x": {"threshold": 10, "dominance_n": 2}}}, "give both dominance_n"),
        (
            {"profiles": {"x": {"threshold": 10, "dominance_n": 3, "dominance_k": 0.8}}},
            "dominance_n must be 1 or 2",
        ),
        ({"profiles": {"x": {"threshold": 10, "p_percent": 10}}}, "strictly between 0 and 1"),
        ({"profiles": {"x": {"extends": "nope"}}}, "extends unknown profile 'nope'"),
        ({"profiles": {"a": {"extends": "b"}, "b": {"extends": "a"}}}, "in a loop"),
        ({"default_profile": "nope"}, "unknown disclosure profile 'nope'"),
        ({"thresholds": 3}, "unknown setting thresholds"),
        ({"profiles": {"Bad Name": {"threshold": 3}}}, "profile name"),
    ],
)
def test_bad_configuration_is_refused(section, message) -> None:
    with pytest.raises(ProfileError, match=message):
        Profiles.from_config(section)


def test_profiles_come_from_the_hub_configuration(tmp_path) -> None:
    from bastide.hub import Hub

    hub = Hub.init(tmp_path / "hub")
    config = hub.root / "bastide.toml"
    config.write_text(
        config.read_text()
        + '\n[disclosure]\ndefault_profile = "acro"\n\n[disclosure.profiles.acro]\nthreshold = 12\n'
    )
    profiles = Profiles.from_config(Hub(hub.root).settings.values.get("disclosure"))
    assert profiles.get() == Profile(**{**ACRO.__dict__, "threshold": 12})
