"""The REST protocol: transport, envelope, errors, registry, auth and dispatch.

Nothing in this package knows about any Bitrix24 scope; scopes plug in through
the registry.
"""
