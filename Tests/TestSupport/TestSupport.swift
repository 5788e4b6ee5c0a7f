// Shared helpers for tests that need the real servers.
