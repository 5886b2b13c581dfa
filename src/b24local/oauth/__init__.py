"""OAuth 2.0 for local applications: the login page, codes, and token pairs."""
