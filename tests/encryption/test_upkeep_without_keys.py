"""Operating the store needs no key: listing snapshots, verifying checksums and collecting
garbage work without the key provider; reading data does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_data import conditions
from key_backends import Backend

from bastide.errors import BastideError
from bastide.hub import Hub
from bastide.storage import Warehouse


def test_storage_upkeep_without_the_master_key(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    for message in ("first", "second"):
        with Warehouse(hub).begin(message) as w:
            w.write("condition_occurrence", "snds", conditions(30))
            w.commit()
    if backend.name == "keyfile":
        keyfile = hub.settings.path("keys", "keyfile")
        keyfile.rename(tmp_path / "elsewhere.key")
    else:
        monkeypatch.delenv("BASTIDE_HSM_PIN")

    wh = Warehouse(Hub(hub.root))
    assert [s.message for s in wh.snapshots()] == ["first", "second"]
    snap = wh.current()
    assert snap is not None and snap.verify().ok
    assert wh.gc(keep=1).files == 1
    with pytest.raises(BastideError, match=r"master key file not found|export BASTIDE_HSM_PIN"):
        snap.dataset("condition_occurrence")
