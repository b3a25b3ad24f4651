"""The optional parts (extras ``spark``, ``hsm``, ``postgres``; docs/dependencies.md).

bastide imports none of their packages unless a feature needs it, works without them, and
asking for a feature whose package is absent is one line on stderr that says how to install
it, never a traceback. "Absent" is simulated in a subprocess: ``sys.modules[name] = None``
makes every import of it fail as if the package were not installed, and an audit hook
records each ``import`` statement that tries it anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from bastide.optional import EXTRAS, Extra, MissingExtra, require

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL_MODULES = ("pyspark", "py4j", "pkcs11", "psycopg", "psycopg_binary")

PRELUDE = """
import atexit, json, os, sys
blocked = {blocked!r}
for name in blocked:
    sys.modules[name] = None  # as if not installed
tried = []
def _audit(event, args):
    if event == "import" and args[0].split(".")[0] in blocked:
        tried.append(args[0])
sys.addaudithook(_audit)
def _report():
    loaded = sorted(
        m for m in sys.modules
        if m.split(".")[0] in {optional!r} and sys.modules[m] is not None
    )
    with open(os.environ["REPORT"], "w") as out:
        json.dump({{"tried": tried, "loaded": loaded}}, out)
atexit.register(_report)
sys.argv[0] = "bastide"
from bastide.cli import main
main()
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    tried: list[str]  # import statements that tried a blocked module
    loaded: list[str]  # optional modules imported by the end


def bastide(tmp: Path, *args: str, blocked: tuple[str, ...] = (), cwd: Path | None = None) -> Run:
    """Run the ``bastide`` command in a fresh interpreter, with ``blocked`` unimportable."""
    report = tmp / f"report-{len(list(tmp.glob('report-*')))}.json"
    code = PRELUDE.format(blocked=blocked, optional=OPTIONAL_MODULES)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd or tmp,
        env={**_clean_env(), "REPORT": str(report), "COLUMNS": "200"},
        timeout=600,
    )
    seen = json.loads(report.read_text()) if report.exists() else {"tried": [], "loaded": []}
    return Run(proc.returncode, proc.stdout, proc.stderr, seen["tried"], seen["loaded"])


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BASTIDE_")}


def assert_one_line_install_hint(run: Run, extra: Extra) -> None:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert lines[0].startswith("error: ")
    assert f"{extra.feature} needs {extra.package}" in lines[0]
    assert f"pip install 'bastide[{extra.name}]'" in lines[0]
    assert f"uv sync --extra {extra.name}" in lines[0]


@pytest.fixture(scope="module")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("extras") / "hub"
    subprocess.run(
        [sys.executable, "-m", "bastide", "init", str(root)], check=True, capture_output=True
    )
    return root


def hub_with(template: Path, tmp: Path, old: str, new: str) -> Path:
    """A copy of the template hub whose bastide.toml has ``old`` replaced by ``new``."""
    hub = tmp / "hub"
    shutil.copytree(template, hub)
    config = hub / "bastide.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    return hub


# -- without any optional package installed -------------------------------------------


def test_cli_imports_no_optional_package(tmp_path: Path, hub_template: Path) -> None:
    """Installed or not, the command's import, its help and DuckDB commands leave them alone."""
    run = bastide(tmp_path, "--help")
    assert run.returncode == 0, run.stderr
    assert "Usage" in run.stdout
    assert run.loaded == []
    hub = tmp_path / "hub"
    shutil.copytree(hub_template, hub)
    run = bastide(tmp_path, "sql", "--hub", str(hub), "SELECT 1")
    assert "no snapshot yet" in run.stderr  # it got as far as the warehouse
    assert run.loaded == []


@pytest.mark.parametrize("name", sorted(EXTRAS))
def test_help_works_without_the_package(tmp_path: Path, name: str) -> None:
    run = bastide(tmp_path, "--help", blocked=(EXTRAS[name].module,))
    assert run.returncode == 0, run.stderr
    assert "Usage" in run.stdout
    assert run.stderr == ""
    assert run.tried == []


@pytest.mark.slow
def test_demo_runs_without_any_optional_package(tmp_path: Path) -> None:
    blocked = tuple(extra.module for extra in EXTRAS.values())
    demo = tmp_path / "demo"
    run = bastide(
        tmp_path, "demo", "--persons", "300", "--hospitals", "2", "--dir", str(demo),
        blocked=blocked,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "persons in the warehouse" in run.stdout
    assert "linkage precision" in run.stdout
    assert "Traceback" not in run.stderr
    assert run.tried == []  # synth, ingest, linkage and checks never even tried them
    assert any((demo / "hub" / "reports").glob("quality-snapshot-*.html"))


# -- asking for a feature whose package is absent -------------------------------------


def test_engine_spark_option_without_pyspark(tmp_path: Path, hub_template: Path) -> None:
    hub = tmp_path / "hub"
    shutil.copytree(hub_template, hub)
    run = bastide(
        tmp_path, "--engine", "spark", "sql", "--hub", str(hub), "SELECT 1", blocked=("pyspark",)
    )
    assert_one_line_install_hint(run, EXTRAS["spark"])


def test_spark_in_the_configuration_without_pyspark(tmp_path: Path, hub_template: Path) -> None:
    hub = hub_with(hub_template, tmp_path, 'name = "duckdb"', 'name = "spark"')
    extract = tmp_path / "extract"
    extract.mkdir()
    run = bastide(
        tmp_path, "ingest", "--hub", str(hub), "--source", "snds", str(extract),
        blocked=("pyspark",),
    )  # fmt: skip
    assert_one_line_install_hint(run, EXTRAS["spark"])
    assert list((hub / "tmp").iterdir()) == []  # nothing staged before the engine opened


def test_pkcs11_hub_init_without_python_pkcs11(tmp_path: Path) -> None:
    hub = tmp_path / "hsm-hub"
    run = bastide(
        tmp_path, "init", str(hub), "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so",
        "--token-label", "bastide", blocked=("pkcs11",),
    )  # fmt: skip
    assert_one_line_install_hint(run, EXTRAS["hsm"])
    assert not hub.exists()  # no half-made hub


def test_pkcs11_provider_in_the_configuration_without_python_pkcs11(
    tmp_path: Path, hub_template: Path
) -> None:
    hub = hub_with(
        hub_template,
        tmp_path,
        'provider = "keyfile"',
        'provider = "pkcs11"\nmodule = "/usr/lib/softhsm/libsofthsm2.so"\ntoken_label = "t"',
    )
    run = bastide(tmp_path, "keys", "status", "--hub", str(hub), blocked=("pkcs11",))
    assert_one_line_install_hint(run, EXTRAS["hsm"])


@pytest.mark.parametrize(
    "url", ["postgresql://bastide@127.0.0.1:1/hub", "postgresql+psycopg://bastide@127.0.0.1:1/hub"]
)
def test_postgresql_metadata_url_without_psycopg(
    tmp_path: Path, hub_template: Path, url: str
) -> None:
    hub = hub_with(hub_template, tmp_path, 'url = "sqlite:///{hub}/metadata.db"', f'url = "{url}"')
    run = bastide(tmp_path, "user", "list", "--hub", str(hub), blocked=("psycopg",))
    assert_one_line_install_hint(run, EXTRAS["postgres"])


# -- the helper and the packaging -----------------------------------------------------


def test_installed_but_broken_package_is_reported_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "brokenpkg"
    package.mkdir()
    (package / "__init__.py").write_text("import bastide_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = Extra("broken", "brokenpkg", "broken-pkg", "the broken feature")
    with pytest.raises(MissingExtra) as caught:
        require(extra)
    message = str(caught.value)
    assert message.startswith("the broken feature needs broken-pkg, which is installed but")
    assert "No module named 'bastide_no_such_dependency'" in message
    assert "pip install 'bastide[broken]'" in message
    assert "\n" not in message


def test_absent_package_is_reported_as_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(MissingExtra, match=r"not installed: pip install 'bastide\[spark\]'"):
        require(EXTRAS["spark"], "pyspark.sql")  # a submodule: still "not installed"


def test_extras_are_declared_as_bastide_optional_says() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = project["optional-dependencies"]
    base = " ".join(project["dependencies"])
    for name, extra in EXTRAS.items():
        assert any(req.startswith(extra.package) for req in optional[name]), name
        assert extra.package not in base, f"{extra.package} is a base dependency again"
    (everything,) = optional["all"]
    assert everything.startswith("bastide[") and everything.endswith("]")
    assert set(everything.removeprefix("bastide[").removesuffix("]").split(",")) == set(EXTRAS)
