"""REST 3.0: the ``/rest/api/`` path, its JSON-only requests, unified answers and
errors, the ``filter``/``select``/``order``/``pagination`` grammar, the
``Idempotency-Key`` header and the OpenAPI document. Protocol only: a method joins
REST 3.0 by declaring a :class:`~b24local.rest.v3.schema.V3Spec` on its registry entry.
"""
