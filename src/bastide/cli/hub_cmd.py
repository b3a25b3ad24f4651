"""``bastide init``: create an empty hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastide.cli.app import UserError, app, console
from bastide.hub import Hub


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Directory of the new hub (created if absent).")],
    pkcs11_module: Annotated[
        Path | None,
        typer.Option(
            "--pkcs11-module",
            help="Keep the master key in a PKCS#11 HSM: path of its library "
            "(e.g. /usr/lib/softhsm/libsofthsm2.so). Default: a key file in the hub.",
        ),
    ] = None,
    token_label: Annotated[
        str | None, typer.Option("--token-label", help="HSM token holding the master key.")
    ] = None,
    key_label: Annotated[
        str, typer.Option("--key-label", help="Label of the master key on the token.")
    ] = "bastide-master",
    pin_env: Annotated[
        str,
        typer.Option(
            "--pin-env", help="Environment variable holding the token's PIN (never stored)."
        ),
    ] = "BASTIDE_HSM_PIN",
) -> None:
    """Create an empty hub: configuration, the master key (key file or HSM) and the hub's
    wrapped secrets."""
    keys = None
    if pkcs11_module is not None:
        if not token_label:
            raise UserError("--pkcs11-module needs --token-label")
        keys = {
            "provider": "pkcs11",
            "module": str(pkcs11_module),
            "token_label": token_label,
            "key_label": key_label,
            "pin_env": pin_env,
        }
    elif token_label:
        raise UserError("--token-label is for an HSM: give --pkcs11-module too")
    hub = Hub.init(path, keys=keys)
    console.print(f"Created hub at [bold]{hub.root}[/]")
    console.print(f"  configuration: {hub.root / 'bastide.toml'}")
    if keys is None:
        console.print(f"  master key:    {hub.settings.path('keys', 'keyfile')} (mode 600)")
    else:
        console.print(
            f"  master key:    '{key_label}' on HSM token '{token_label}' (non-extractable)"
        )
