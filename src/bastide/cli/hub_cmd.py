"""``bastide init``: create an empty hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastide.cli.app import app, console
from bastide.hub import Hub


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Directory of the new hub (created if absent).")],
) -> None:
    """Create an empty hub: configuration, a master key file and the hub's wrapped secrets."""
    hub = Hub.init(path)
    console.print(f"Created hub at [bold]{hub.root}[/]")
    console.print(f"  configuration: {hub.root / 'bastide.toml'}")
    console.print(f"  master key:    {hub.settings.path('keys', 'keyfile')} (mode 600)")
