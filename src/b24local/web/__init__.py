"""The pages for teams: log-in, "My day", served under ``/`` of each portal's host.

Server-rendered (Jinja2) with small scripts and a style sheet shipped in the
package: no build step, nothing fetched from elsewhere. Every action goes through
the same domain and store code as the REST methods (:mod:`b24local.scopes`).
"""
