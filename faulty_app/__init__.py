"""The deliberately faulty demo service deployed by every canary scenario (ships alone: no harness)."""

__version__ = "0.1.0"
