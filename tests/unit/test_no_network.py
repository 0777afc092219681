"""The unit suite's guard (tests/unit/conftest.py): no network socket, so no unit test reaches a server."""

import socket

import httpx
import pytest
from pytest_socket import SocketBlockedError


def test_a_unit_test_cannot_open_a_network_socket() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(SocketBlockedError):
        httpx.get("http://127.0.0.1:9/")


def test_unix_sockets_stay_available() -> None:
    left, right = socket.socketpair()  # (asyncio and multiprocessing use them in-process)
    left.close()
    right.close()
