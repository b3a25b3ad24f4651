"""What a Spark session needs to read the hub's encrypted Parquet files.

Spark reads Parquet modular encryption through parquet-mr's ``PropertiesDrivenCryptoFactory``
and a ``KmsClient`` class on its classpath. bastide ships the source of one
(``java/BastideKmsClient.java``), compiled with the installed JDK against the Parquet jar
inside pyspark. The session is given, in memory, the *unwrapped data keys* of the scopes it
must read (never the master key): see docs/encryption.md, "Spark and key custody".

pyspark is imported by nothing here: this module only prepares paths and properties.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bastide.keys.provider import KeyError_
from bastide.optional import SPARK, not_installed

if TYPE_CHECKING:
    from bastide.keys.keyring import Keyring

KMS_CLASS = "bastide.kms.BastideKmsClient"
KEYS_PROPERTY = "bastide.kms.secret.keys"  # "secret": Spark redacts it in its UI and logs
SOURCE = Path(__file__).parent / "java" / "BastideKmsClient.java"
CRYPTO_FACTORY = "org.apache.parquet.crypto.keytools.PropertiesDrivenCryptoFactory"


def pyspark_jars() -> Path:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise not_installed(SPARK)
    return Path(spec.origin).parent / "jars"


def compile_kms_client(cache: Path) -> Path:
    """Compile the KmsClient (once per source and pyspark version) into ``cache``; return
    the class directory to put on Spark's driver and executor classpath."""
    jars = pyspark_jars()
    parquet = sorted(jars.glob("parquet-hadoop-*.jar"))
    if not parquet:
        raise KeyError_(f"no parquet-hadoop jar in {jars}")
    digest = hashlib.sha256(SOURCE.read_bytes() + parquet[-1].name.encode()).hexdigest()[:16]
    out = cache / f"bastide-kms-{digest}"
    if (out / "bastide" / "kms" / "BastideKmsClient.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        raise KeyError_("javac (a JDK) is needed to compile the Spark KmsClient")
    cache.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    try:
        done = subprocess.run(
            [javac, "-nowarn", "-d", str(build), "-cp", f"{jars}/*", str(SOURCE)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise KeyError_(f"javac failed on {SOURCE.name}: {done.stderr.strip()[-500:]}")
        try:
            os.rename(build, out)
        except OSError:  # another process compiled it meanwhile
            if not out.is_dir():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return out


def hadoop_properties(keyring: Keyring, scopes: Iterable[str]) -> dict[str, str]:
    """Hadoop properties with which Spark decrypts the files of ``scopes``.

    The value of ``bastide.kms.secret.keys`` is the unwrapped data keys: set it on the
    session's Hadoop configuration at run time (``spark.sparkContext._jsc
    .hadoopConfiguration().set``), never in a file or in ``spark-defaults``.
    """
    pairs = [f"{scope}={keyring.data_key(scope).hex()}" for scope in sorted(set(scopes))]
    return {
        "parquet.crypto.factory.class": CRYPTO_FACTORY,
        "parquet.encryption.kms.client.class": KMS_CLASS,
        KEYS_PROPERTY: ";".join(pairs),
    }
