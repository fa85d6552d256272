"""Hearth's web edge: routers and error handlers that create_app wires together."""
