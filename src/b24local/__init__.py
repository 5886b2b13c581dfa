"""b24local — a local server that speaks the Bitrix24 REST API for presence and work time."""

__version__ = "0.1.0"
