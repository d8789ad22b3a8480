"""Claims of regularization (registered by the lesson's claims work)."""
