"""runai-reconcile test suite (a package so tests can import tests.emulator.helpers)."""
