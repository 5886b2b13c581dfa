"""The ``department`` scope: the company structure."""
