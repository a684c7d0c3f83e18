"""IP_ADDRESS: IPv4 and IPv6 addresses that ``ipaddress`` accepts.

Counted: public and private (RFC 1918, unique-local, link-local) addresses. Private addresses are not
personal data, but they map internal networks, which SOC 2's confidentiality criteria treat as
sensitive. Not counted: loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0, ::), multicast and reserved
IPv4 addresses (255.255.255.255, netmasks such as 255.255.255.0), which say nothing about anyone.
"""

from __future__ import annotations

import ipaddress

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.findings import Kind

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _counted(address: _IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv4Address):
        first = address.packed[0]  # 0.x unspecified/"this network", 127 loopback, 224+ multicast/reserved
        return first not in (0, 127) and first < 224
    if address.ipv4_mapped is not None:
        return _counted(address.ipv4_mapped)
    # IPv6's "reserved" blocks are the unallocated global space: still an address someone wrote down.
    return not (address.is_loopback or address.is_unspecified or address.is_multicast)


class IpAddressDetector(Detector):
    entity = "IP_ADDRESS"
    kind = Kind.PII
    priority = 55
    patterns = (
        # IPv4: four dotted numbers, not part of a longer dotted sequence (1.2.3.4.5 is a version).
        r"(?:^|[^0-9A-Za-z.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:[^0-9.]|\.[^0-9]|\.$|$)",
        # IPv6: hex groups and colons, optionally ending in a dotted IPv4 part (::ffff:192.0.2.1).
        r"(?:^|[^0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3})?)"
        r"(?:[^0-9A-Za-z:.]|$)",
    )

    def validate(self, value: str, context: str) -> bool:
        if ":" in value:
            # A C++ "Feed::add" or a clock "12:30:45" is not an address: require a digit and "::" or 8 groups.
            if not any(ch.isdigit() for ch in value) or ("::" not in value and value.count(":") != 7):
                return False
            try:
                return _counted(ipaddress.IPv6Address(value))
            except ValueError:
                return False
        try:
            return _counted(ipaddress.IPv4Address(value))
        except ValueError:
            return False
