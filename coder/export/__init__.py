"""Writers for exchange formats; each takes records and writes a file, never touching the store."""
