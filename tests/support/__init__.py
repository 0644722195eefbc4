"""Test support: real servers and browsers for the test suite (see servers.py)."""
