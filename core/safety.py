"""What may be shown: text without invisible controls, errors without secrets, public addresses."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Kept format characters: joiners shape emoji sequences and Persian words.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
SHOWN_ERROR_CHARS = 300
TOKEN_MARK = "<token>"


def _hidden(char: str) -> bool:
    """A character that changes how text around it looks without being text: bidi overrides
    and isolates, marks, zero-width spaces, controls other than tab and newline."""
    if char in "\n\t":
        return False
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in _KEPT_FORMAT and not ("\U000e0020" <= char <= "\U000e007f")
    return category == "Cc"


_HIDDEN = {code: None for code in range(0x110000) if _hidden(chr(code))}


def visible(text: str) -> str:
    """`text` without bidi controls (U+202E…) and other invisible formatting characters."""
    return text.translate(_HIDDEN)


def has_hidden(text: str) -> bool:
    """Whether `text` holds a character `visible` would remove."""
    return any(ord(char) in _HIDDEN for char in text)


def redact(text: str, token: str = "") -> str:
    """`text` with the bot token (and anything shaped like one) and URL credentials masked."""
    if token:
        text = text.replace(token, TOKEN_MARK)
    text = _TOKEN_SHAPE.sub(TOKEN_MARK, text)
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def safe_error(text: str | None, limit: int = SHOWN_ERROR_CHARS) -> str | None:
    """An error string fit to store or show: redacted, on one line, at most `limit` characters."""
    if text is None:
        return None
    text = " ".join(visible(redact(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def has_credentials(url: str) -> bool:
    """Whether a URL carries a user name or password (`https://user:pass@host/…`)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return "@" in parts.netloc


def without_credentials(url: str) -> str:
    """The URL as it may be displayed, exported or logged: any `user:pass@` replaced by `***@`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_CREDENTIALS.sub(r"\1***@", url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc="***@" + host))


# Addresses no public page lives on (beyond what ipaddress calls private).
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
SHARED_CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_category(address: str | IPAddress) -> str | None:
    """Why connecting to `address` is refused ("loopback", "private"…), or None if it is public."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return "unparseable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%")[0])
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return refusal_category(embedded)
    if ip in CLOUD_METADATA:
        return "cloud metadata"
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_CGNAT, "shared (CGNAT)"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-public"),
    )
    return next((category for refused, category in checks if refused), None)


def _ip_literal(host: str) -> IPAddress | None:
    """The address a URL's host names directly (IPv6 in brackets, or the decimal and hex
    spellings browsers accept for IPv4), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not all(re.fullmatch(r"0x[0-9a-f]+|\d+", p) for p in parts) or not 1 <= len(parts) <= 4:
        return None
    try:
        values = [
            int(p, 16) if p.startswith("0x") else int(p, 8 if p[:1] == "0" and p != "0" else 10)
            for p in parts
        ]
    except ValueError:
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(parts)):
        return None
    number = 0
    for value in head:
        number = number * 256 + value
    number = number * 256 ** (5 - len(parts)) + last
    return ipaddress.IPv4Address(number) if number < 2**32 else None


def private_host(host: str) -> str | None:
    """Why a link to `host` would lead into a private network ("loopback", "local name"…), or
    None when it names a public address or a public-looking domain (no DNS is asked)."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return "no host"
    address = _ip_literal(host)
    if address is not None:
        return refusal_category(address)
    if host == "localhost" or host.endswith(_LOCAL_NAMES) or "." not in host:
        return "local name"
    return None
