"""The job queue: the broker and its Redis names, the client the bot uses, the worker and its
engine, and the results (JSON only) that travel back. Knows nothing of Telegram."""
