"""Loopback ports: pick a free one, and check that a stopped server really let go of its port."""

from __future__ import annotations

import socket
import threading
import time

LOOPBACK = "127.0.0.1"

_handed_out: set[int] = set()  # ports given out by this process, never handed out twice
_lock = threading.Lock()


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (and not yet handed out by this process)."""
    for _ in range(64):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        with _lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise OSError(f"no free port found on {host} after 64 tries")


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a server could listen on ``port`` now (SO_REUSEADDR, as aiohttp and uvicorn bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on ``port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port_free(port: int, timeout: float, host: str = LOOPBACK) -> bool:
    """Poll until ``port`` is free again; False when ``timeout`` real seconds pass first."""
    deadline = time.monotonic() + timeout
    while not is_port_free(port, host):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def wait_listening(port: int, timeout: float, host: str = LOOPBACK) -> bool:
    """Poll until something listens on ``port``; False when ``timeout`` real seconds pass first."""
    deadline = time.monotonic() + timeout
    while not is_listening(port, host):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
