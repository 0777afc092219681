"""Unit tests cannot reach the network: every socket but a Unix one is refused (pytest-socket), so a unit test that
would call AWS, Walmart or the emulator over HTTP fails at once. The two tests of the emulator's real HTTP server
say so with ``@pytest.mark.enable_socket``."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("enable_socket") is None:
        disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()
