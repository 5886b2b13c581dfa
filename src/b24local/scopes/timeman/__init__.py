"""The ``timeman`` scope: the workday (open, pause, close), settings and approvals."""
