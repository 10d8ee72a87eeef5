"""The command-line interface: click commands, the only package that prints or prompts.

`main` (in `app`) is the entry point; each command module registers its commands on it when
imported, which `main` does for the command a run names (see `app.COMMAND_MODULES`). Commands
say which server they talk to first, on stderr.
"""

from reconcile.cli.app import main

__all__ = ["main"]
