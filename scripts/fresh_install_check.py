"""Install bastide as a user would and run its main job and a governed study, proving that
nothing outside the installed package (and the user's own working directory) is read.

    uv run python scripts/fresh_install_check.py [--persons 2000] [--keep]

1. build the wheel from this checkout;
2. install it, with the locked versions of its base dependencies only (no extras, so no
   pyspark, python-pkcs11 or psycopg: checked), into a new virtual environment in a
   temporary directory outside the checkout;
3. in an empty working directory, with HOME and TMPDIR inside it, run under strace
   `bastide demo --persons N`, then a governed study: accounts, a project request, its
   review, approval and activation, the project extract, `bastide study run` and
   `bastide audit verify`;
4. fail if any process opened a file that is neither in the new environment, nor in the
   Python installation it was made from, nor in the working directory, nor a system file
   (shared libraries, /etc, /proc, /sys, /dev, time zones, locales).

The study file is copied from studies/ into the working directory: it is the user's input.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "studies" / "nsaid_gi_bleeding.yaml"
PASSWORD = "fresh install check password"
OPTIONAL = ("pyspark", "pkcs11", "psycopg")  # the extras spark, hsm, postgres: not installed
SYSTEM_ROOTS = (
    "/etc/",
    "/proc/",
    "/sys/",
    "/dev/",
    "/lib/",
    "/lib64/",
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/share/zoneinfo/",
    "/usr/share/locale/",
    "/usr/share/fonts/",
    "/usr/local/share/fonts/",
    "/usr/share/fontconfig/",
    "/var/cache/fontconfig/",
    "/run/",
)
REQUEST = """\
name = "nsaid-gi"
title = "GI bleeding in new users of celecoxib versus diclofenac"
purpose = "Compare the incidence of GI bleeding between two NSAIDs."
legal_basis = "RGPD art. 6.1.e and 9.2.j"
authorisation = "CNIL DR-2026-001"

[tables]
person = ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth"]
observation_period = ["person_id", "observation_period_start_date",
                      "observation_period_end_date"]
drug_exposure = ["person_id", "drug_concept_id", "drug_source_concept_id",
                 "drug_exposure_start_date", "drug_exposure_end_date", "days_supply"]
condition_occurrence = ["person_id", "condition_concept_id", "condition_source_concept_id",
                        "condition_start_date"]
death = ["person_id", "death_date"]
concept = ["concept_id", "concept_code", "concept_name", "vocabulary_id"]
concept_ancestor = ["ancestor_concept_id", "descendant_concept_id"]
"""


def step(message: str) -> None:
    print(f"[fresh-install] {message}", flush=True)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    return result


def build_and_install(root: Path) -> Path:
    uv = shutil.which("uv") or sys.exit("uv is needed on PATH")
    step("building the wheel")
    run([uv, "build", "--wheel", "--out-dir", str(root / "dist"), str(REPO)], cwd=REPO)
    wheel = next((root / "dist").glob("bastide-*.whl"))
    step(f"installing {wheel.name} into a new environment (base dependencies only)")
    requirements = root / "requirements.txt"
    exported = run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"], cwd=REPO
    )
    requirements.write_text(exported.stdout)
    venv = root / "venv"
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    python = venv / "bin" / "python"
    run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements)])
    run([uv, "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)])
    probe = "import importlib.util as u; print([m for m in OPTIONAL if u.find_spec(m)])"
    found = run([str(python), "-c", f"OPTIONAL = {list(OPTIONAL)!r}; {probe}"]).stdout.strip()
    if found != "[]":
        raise SystemExit(f"the base install brought optional packages: {found}")
    return venv


VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"


def base_prefix(venv: Path) -> str:
    """The Python installation the environment was made from."""
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.base_prefix)"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()


def allowed_roots(venv: Path, work: Path, base: str) -> tuple[str, ...]:
    python = (
        f"{base}/lib/{VERSION}/",
        f"{base}/lib64/{VERSION}/",
        f"{base}/lib/lib{VERSION}.so",  # a shared interpreter's own library
    )
    return (f"{venv.resolve()}/", f"{work.resolve()}/", *python, *SYSTEM_ROOTS)


def denied_roots(base: str) -> tuple[str, ...]:
    """Inside the allowed roots, but never to be read: the checkout, the reference source
    folder next to it, and the base interpreter's own site-packages."""
    return (f"{REPO}/", f"{REPO.parent / 'shared'}/", f"{base}/lib/{VERSION}/site-packages/")


# pid  openat(AT_FDCWD</cwd>, "path", ...) = 4</the/opened/file>   (strace -z -y)
OPENED = re.compile(r"^\d+\s+open(?:at2?)?\(.* = \d+<(.+)>$")


def outside_reads(trace: Path, allowed: tuple[str, ...], denied: tuple[str, ...]) -> list[str]:
    """Files a trace shows opened outside ``allowed``, or inside ``denied``."""
    found = set()
    for line in trace.read_text(errors="replace").splitlines():
        match = OPENED.match(line)
        if not match:
            continue
        path = os.path.realpath(match.group(1))
        if os.path.isdir(path) and not path.endswith("/"):
            path += "/"
        if path.startswith(denied) or (not path.startswith(allowed) and path not in allowed):
            found.add(path)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if shutil.which("strace") is None:
        sys.exit("strace is needed (Debian package strace)")
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="bastide-fresh-"))
    try:
        venv = build_and_install(root)
        work = root / "work"
        (work / "home").mkdir(parents=True)
        (work / "tmp").mkdir()
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(work / "home"),
            "TMPDIR": str(work / "tmp"),
            "LANG": "C.UTF-8",
            "BASTIDE_HUB": str(work / "bastide-demo" / "hub"),
        }
        trace = work / "trace"
        trace.mkdir()

        def bastide(*words: str, stdin: str | None = None, actor: str | None = None) -> str:
            command = ["strace", "-f", "-qq", "-z", "-y", "-e", "trace=open,openat,openat2"]
            command += ["-o", str(trace / f"{len(list(trace.iterdir())):02d}.txt")]
            command += ["bastide", *words] + (["--as", actor] if actor else [])
            return run(command, cwd=work, env=env, input=stdin).stdout

        step(f"bastide demo --persons {args.persons}")
        print(bastide("demo", "--persons", str(args.persons)), flush=True)
        step("a governed study: accounts, project, approval, extract, study run, audit")
        bastide("user", "add", "olga", "--role", "operator", "--password-stdin", stdin=PASSWORD)
        for name, role in [("stella", "steward"), ("rita", "researcher"), ("audrey", "auditor")]:
            bastide(
                "user",
                "add",
                name,
                "--role",
                role,
                "--password-stdin",
                stdin=PASSWORD,
                actor="olga",
            )
        (work / "request.toml").write_text(REQUEST)
        shutil.copy(STUDY, work / STUDY.name)
        bastide("project", "request", "request.toml", actor="rita")
        bastide("project", "review", "nsaid-gi", actor="stella")
        bastide("project", "approve", "nsaid-gi", "--expires", "2099-12-31", actor="stella")
        bastide("project", "activate", "nsaid-gi", actor="olga")
        bastide("extract", "nsaid-gi", actor="olga")
        print(bastide("study", "run", STUDY.name, "--project", "nsaid-gi", actor="rita"))
        print(bastide("audit", "verify", actor="audrey"))

        base = base_prefix(venv)
        allowed, denied = allowed_roots(venv, work, base), denied_roots(base)
        outside = sorted({p for t in trace.iterdir() for p in outside_reads(t, allowed, denied)})
        opened = sum(1 for t in trace.iterdir() for _ in t.read_text().splitlines())
        if outside:
            print("Files read outside the installed package and the working directory:")
            for path in outside[:50]:
                print(f"  {path}")
            return 1
        step(
            f"OK: {opened:,} files opened, none outside the installed package, the Python "
            f"installation, the working directory and system files "
            f"({time.monotonic() - started:.0f} s)"
        )
        return 0
    finally:
        if args.keep:
            step(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
