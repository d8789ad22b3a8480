"""Claims of skew (registered by the lesson's claims work)."""
