"""A client that sends its request a byte at a time, as a slowloris attacker does (tests only)."""

from __future__ import annotations

import socket
import time


def trickle_is_cut_off(sock: socket.socket, request: bytes, wait_s: float, bound_s: float) -> bool:
    """Send ``request`` byte by byte; True once the server answered 408 or closed the connection.

    ``wait_s`` is how long each byte waits for an answer; after ``bound_s`` in all, False.
    """
    started = time.monotonic()
    sock.settimeout(wait_s)
    for byte in request:
        if time.monotonic() - started > bound_s:
            return False
        try:
            sock.send(bytes([byte]))
            answer = sock.recv(4096)  # the 408, or b"" once closed
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            answer = b""
        return answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    return False
