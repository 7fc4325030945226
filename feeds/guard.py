"""Address guard: feeds may only be fetched from public addresses (no SSRF into our network).

How it works: `GuardedNetworkBackend` is the httpcore network backend under Rasd's one httpx
client. httpcore asks it to open a TCP connection to (hostname, port); it resolves the name
itself, refuses the connection when ANY resolved address is not public, and otherwise connects
to one of the addresses it checked. The name is resolved once per connection and the socket
goes to a checked IP, so DNS rebinding between check and connect cannot happen. httpx still
sends the original Host header and httpcore still passes the original hostname to TLS as SNI
and for certificate checks, because only the socket address changes. Redirects are requests
like any other, so every hop is checked, and a refused hop is never connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore

from core.safety import refusal_category

Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_ADDRESSES_TRIED = 4


class AddressRefused(Exception):
    """A connection the guard refused; str() is the English reason."""

    def __init__(self, host: str, address: str, category: str) -> None:
        self.host = host
        self.address = address
        self.category = category
        where = "" if _same_address(host, address) else f"{host} "
        super().__init__(f"refused: {where}resolves to {category} address {address}")


def _same_address(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(address)
    except ValueError:
        return False


async def system_resolver(host: str, port: int) -> list[str]:
    """All addresses the system resolver gives for host, in its order, without duplicates."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, then connect to a checked IP (see the module docstring)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allowed_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.allowed_networks = [ipaddress.ip_network(n) for n in allowed_networks]
        self._resolve = resolver or system_resolver
        self._backend = httpcore.AnyIOBackend()

    async def resolve_checked(
        self,
        host: str,
        port: int,
        timeout: float | None,  # noqa: ASYNC109 - httpcore passes its connect timeout down
    ) -> list[str]:
        """The host's addresses; raises AddressRefused if any of them is not public."""
        literal = host.strip("[]")
        try:
            ipaddress.ip_address(literal)
            addresses = [literal]
        except ValueError:
            try:
                async with asyncio.timeout(timeout):
                    addresses = await self._resolve(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"could not resolve {host}: no addresses")
        if not self.allow_private:
            for address in addresses:
                category = refusal_category(address)
                if category is not None and not self._is_allowed(address):
                    raise AddressRefused(host, address, category)
        return addresses

    def _is_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        return any(ip in network for network in self.allowed_networks)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - the httpcore backend interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve_checked(host, port, timeout)
        last_error: Exception | None = None
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                return await self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - the httpcore backend interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)
