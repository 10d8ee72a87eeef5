"""The Run:ai API emulator: a real HTTP server that behaves like the Run:ai control plane.

It imports nothing from the rest of reconcile, so it stays an independent witness of the API.
"""
