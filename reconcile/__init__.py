"""runai-reconcile: a declarative reconciler for the NVIDIA Run:ai control-plane API."""

__version__ = "0.1.0"
