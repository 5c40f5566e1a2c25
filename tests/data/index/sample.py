"""A sample module for the index tests."""
# ruff: noqa

import os.path
from collections import OrderedDict as OD, deque
from . import sibling

# How many times to retry.
MAX_RETRIES = 3
helper_value = 4  # not a constant: lower case


async def fetch(
    url: str,
    timeout: float = 5,
) -> bytes:
    """Fetch a URL.

    The rest of the docstring is not kept.
    """

    def local_helper():
        pass

    return b""


class Client(Base):
    """Talks to the server."""

    DEFAULT_PORT = 80

    # Send data.
    def send(self, data: bytes) -> int:  # trailing remark
        return len(data)

    @property
    def host(self) -> str:
        return "localhost"


def connect(api_key: str = "Zx8vQ2mN7pL4kJ9hG6fD3sA1wE5rT0yU") -> Client:
    return Client()
