"""Methods every caller has, whatever its scopes (the ``basic`` scope)."""
