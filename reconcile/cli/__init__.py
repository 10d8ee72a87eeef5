"""The command-line interface: click commands, the only package that prints or prompts.

`main` (in `app`) is the entry point; each command module registers its commands on it when
imported here. Commands say which server they talk to first, on stderr.
"""

from reconcile.cli import (
    apply_cmd,
    emulator_cmd,
    fmt_cmd,
    get_cmd,
    import_cmd,
    plan_cmd,
    state_cmd,
    validate_cmd,
)
from reconcile.cli.app import main

__all__ = [
    "apply_cmd",
    "emulator_cmd",
    "fmt_cmd",
    "get_cmd",
    "import_cmd",
    "main",
    "plan_cmd",
    "state_cmd",
    "validate_cmd",
]
