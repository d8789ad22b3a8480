"""Claims of capstone (registered by the lesson's claims work)."""
