"""Tests of the Run:ai API emulator, over real loopback HTTP."""
