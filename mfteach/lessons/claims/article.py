"""Claims of article (registered by the lesson's claims work)."""
