"""Browser tests of the chat pages (shared browser fixtures live in tests/conftest.py)."""
