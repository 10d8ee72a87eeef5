"""Per-API-family handler modules; each exposes `routes() -> list[Route]` (listed in app.py)."""
