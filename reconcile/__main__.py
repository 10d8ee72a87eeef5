"""Entry point for `python -m reconcile`."""

from reconcile.cli import main

main()
