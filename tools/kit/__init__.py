"""threadlings: the kit's runner (manifest, builds, checks, reports)."""
