"""The ``im`` scope: presence and user cards as the messenger shows them."""
