"""Store backends for the conformance suite and the store tests."""
