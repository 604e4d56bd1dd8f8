"""The indexer: mirrors the ledger's events into SQL, exactly, crash-safe and reorg-safe."""
