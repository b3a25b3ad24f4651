"""Wrong key, missing key, tampered ciphertext, truncated file: each is one clear
``BastideError`` naming the file, never wrong rows, never a stack trace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from health_data import conditions
from key_backends import Backend

from bastide.engines import open_engine
from bastide.errors import BastideError
from bastide.hub import Hub
from bastide.keys.pkcs11 import Pkcs11Provider
from bastide.storage import Snapshot, UnreadableFile, Warehouse, encryption_for
from bastide.storage.parquet_io import open_dataset, write_parquet
from bastide.storage.readcheck import check_footers


def loaded(backend: Backend, root: Path) -> tuple[Hub, Snapshot, Path]:
    hub = backend.make_hub(root)
    with Warehouse(hub).begin("load", row_group_rows=5_000) as w:
        w.write("condition_occurrence", "snds", conditions(20_000))
        snap = w.commit()
    return hub, snap, snap.paths("condition_occurrence")[0]


def reopen(hub: Hub) -> Snapshot:
    snap = Warehouse(Hub(hub.root)).current()
    assert snap is not None
    return snap


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def data_page_offset(hub: Hub, path: Path) -> int:
    """An offset inside the first data page of the last column (read with the keys)."""
    props = encryption_for(hub, "warehouse").file_decryption_properties()
    meta = pq.ParquetFile(str(path), decryption_properties=props).metadata
    column = meta.row_group(0).column(meta.num_columns - 1)
    return column.data_page_offset + 40


def test_tampered_data_page(backend: Backend, tmp_path: Path) -> None:
    hub, snap, path = loaded(backend, tmp_path / "hub")
    flip(path, data_page_offset(hub, path))
    snap = reopen(hub)  # the footer is intact: the dataset opens
    with pytest.raises(OSError):  # pyarrow alone: no rows, an error (without the file)
        snap.dataset("condition_occurrence").to_table()
    with pytest.raises(UnreadableFile, match="fails authentication") as err:
        snap.read("condition_occurrence")
    assert err.value.path == str(path)
    with open_engine("duckdb") as engine:  # through an engine, the same error
        snap.register(engine)
        with pytest.raises(UnreadableFile, match=str(path)), snap.reading():
            engine.query("SELECT max(sejour_commentaire) FROM condition_occurrence")


@pytest.mark.parametrize("where", ["footer", "truncated", "tail cut"])
def test_tampered_footer_or_truncated_file(backend: Backend, tmp_path: Path, where: str) -> None:
    hub, _, path = loaded(backend, tmp_path / "hub")
    size = path.stat().st_size
    if where == "footer":
        flip(path, size - 30)  # inside the encrypted footer
        reason = "fails authentication"
    else:
        keep = size // 2 if where == "truncated" else size - 3
        path.write_bytes(path.read_bytes()[:keep])
        reason = "truncated or damaged"
    with pytest.raises(UnreadableFile, match=reason) as err:
        reopen(hub).dataset("condition_occurrence")
    assert err.value.path == str(path)


def test_missing_data_key(backend: Backend, tmp_path: Path) -> None:
    hub, _, path = loaded(backend, tmp_path / "hub")
    (hub.paths.wrapped_keys / "warehouse" / "condition_occurrence" / "v00000001.key").unlink()
    with pytest.raises(UnreadableFile, match="no data key for warehouse table") as err:
        reopen(hub).dataset("condition_occurrence")
    assert err.value.path == str(path)


def test_wrong_data_key(backend: Backend, tmp_path: Path) -> None:
    """The key store entry replaced by another scope's (validly wrapped) key."""
    hub, _, path = loaded(backend, tmp_path / "hub")
    other = hub.keyring.data_key("hub:other", create=True)
    assert other
    keys = hub.paths.wrapped_keys
    target = keys / "warehouse" / "condition_occurrence" / "v00000001.key"
    swapped = (
        (keys / "other.key")
        .read_text()
        .replace('"hub:other"', '"warehouse:condition_occurrence:1"')
    )
    target.write_text(swapped)
    with pytest.raises(UnreadableFile, match="does not open") as err:
        reopen(hub).dataset("condition_occurrence")
    assert err.value.path == str(path)


def test_no_key_at_all_and_plaintext_files(backend: Backend, tmp_path: Path) -> None:
    hub, _, path = loaded(backend, tmp_path / "hub")
    with pytest.raises(UnreadableFile, match="no key was given"):
        check_footers([path], None)
    plain = tmp_path / "plain.parquet"
    write_parquet(plain, conditions(10))
    with pytest.raises(UnreadableFile, match="not encrypted"):
        open_dataset([plain], conditions().schema, encryption=encryption_for(hub, "warehouse"))


def test_the_cli_reports_a_wrong_master_key_in_one_line(backend: Backend, tmp_path: Path) -> None:
    hub, _, _ = loaded(backend, tmp_path / "hub")
    if backend.name == "keyfile":  # another key file in its place
        other = backend.make_hub(tmp_path / "other")
        shutil.copy2(other.settings.path("keys", "keyfile"), hub.settings.path("keys", "keyfile"))
    else:  # another key of the HSM
        toml = hub.root / "bastide.toml"
        toml.write_text(toml.read_text().replace(backend.key_label, backend.key_label + "-b"))
        Pkcs11Provider.from_settings(Hub(hub.root).settings).create()
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "bastide", "sql", "SELECT count(*) FROM condition_occurrence",
         "--hub", str(hub.root)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "does not open with this master key" in done.stderr
    assert "Traceback" not in done.stderr and "count" not in done.stdout


def test_errors_are_bastide_errors() -> None:
    assert issubclass(UnreadableFile, BastideError)


def test_a_scope_reader_opens_no_other_scope(backend: Backend, tmp_path: Path) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    path = tmp_path / "b.parquet"
    write_parquet(path, conditions(10), encryption=encryption_for(hub, "project:b"))
    with pytest.raises(UnreadableFile, match="opens only 'project:a' files"):
        open_dataset([path], conditions().schema, encryption=encryption_for(hub, "project:a"))
    with pytest.raises(UnreadableFile, match="opens only 'warehouse' files"):
        open_dataset([path], conditions().schema, encryption=encryption_for(hub, "warehouse"))
