"""The resource kinds the reconciler manages: one module per kind, `base.py` (the protocol)
and `registry.py` (the one table of them)."""
