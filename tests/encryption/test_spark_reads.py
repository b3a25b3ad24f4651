"""Spark reads what bastide writes: a local Spark session opens an encrypted warehouse
snapshot through parquet-mr's PropertiesDrivenCryptoFactory and bastide's KmsClient
(compiled here from src/bastide/keys/java), given only the scopes' unwrapped data keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from health_data import conditions
from key_backends import Backend

from bastide.keys.spark import KEYS_PROPERTY, compile_kms_client, hadoop_properties
from bastide.storage import Warehouse

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    classes = compile_kms_client(tmp_path_factory.mktemp("kms"))
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("bastide-encryption-test")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.extraClassPath", str(classes))
        .config("spark.ui.enabled", "false")
        .config("spark.io.encryption.enabled", "true")  # Spark's own shuffle/spill files
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _hadoop(spark: Any, props: dict[str, str]) -> None:
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in props.items():
        conf.set(key, value)
    # parquet-mr caches KMS clients per session: forget them so new keys are read.
    spark.sparkContext._jvm.org.apache.parquet.crypto.keytools.KeyToolkit.removeCacheEntriesForAllTokens()


def test_spark_reads_an_encrypted_snapshot(spark: Any, backend: Backend, tmp_path: Path) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    wh = Warehouse(hub)
    with wh.begin("first") as w:
        w.write("condition_occurrence", "snds", conditions(300))
        w.commit()
    with wh.begin("second") as w:  # a second data key; the snds partition is carried over
        w.write("condition_occurrence", "hospital-750100125", conditions(40))
        snap = w.commit()
    scopes = snap.key_scopes("condition_occurrence")
    assert scopes == ["warehouse:condition_occurrence:1", "warehouse:condition_occurrence:2"]
    paths = [str(p) for p in snap.paths("condition_occurrence")]

    _hadoop(spark, hadoop_properties(hub.keyring, scopes))
    rows = spark.read.parquet(*paths).orderBy("condition_occurrence_id", "person_id").collect()
    expected = snap.read("condition_occurrence").sort_by(
        [("condition_occurrence_id", "ascending"), ("person_id", "ascending")]
    )
    assert [r.asDict() for r in rows] == expected.to_pylist()

    # Without the data key of a scope, Spark cannot open that scope's files.
    _hadoop(spark, {KEYS_PROPERTY: hadoop_properties(hub.keyring, scopes[:1])[KEYS_PROPERTY]})
    second = snap.partition("condition_occurrence", "hospital-750100125")
    assert second is not None
    with pytest.raises(Exception, match="no data key for scope 'warehouse:condition_occurrence:2'"):
        spark.read.parquet(str(hub.paths.warehouse / second.files[0].path)).collect()
