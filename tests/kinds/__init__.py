"""Tests of the resource kinds (reconcile/kinds/)."""
