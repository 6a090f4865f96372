"""Backends behind one interface: ``local`` (embedded emulation) and ``kubernetes`` (real Flagger)."""
