"""The ``user`` scope (and its narrower versions ``user_basic`` and ``user_brief``)."""
