"""Tests for the goevent Python bindings (stdlib unittest).

Run from the repository root:
    python3 -m unittest discover -s bindings/python/tests -t bindings/python
GOEVENT_LIBRARY selects the library under test (default: the build tree).
"""
