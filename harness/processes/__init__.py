"""Child processes and loopback ports: spawning children that can never be orphaned, and free ports."""
