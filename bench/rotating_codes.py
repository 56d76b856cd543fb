#!/usr/bin/env python3
"""The rotating code of now of every ticket in an offline bundle, one `id<TAB>code` a line.

    bench/rotating_codes.py bundle.json PERFORMANCE_ID

TOTP (RFC 6238: HMAC-SHA1 of the time-step counter, dynamic truncation), as the ticket page,
a wallet pass and the door compute it: `RC1:<performance>:<ticket>:<generation>:<period>:<totp>`.
"""
import hashlib
import hmac
import json
import struct
import sys
import time


def codes(bundle, performance_id, at=None):
    """(ticket_id, code of `at`, default now) for every ticket of the bundle, in its order."""
    rotating = bundle["rotating"]
    period, digits = rotating["period_seconds"], rotating["digits"]
    counter = struct.pack(">Q", int(time.time() if at is None else at) // period)
    for ticket in rotating["tickets"]:
        mac = hmac.new(bytes.fromhex(ticket["key"]), counter, hashlib.sha1).digest()
        offset = mac[-1] & 0x0F
        value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
        yield ticket["ticket_id"], (f"RC1:{performance_id}:{ticket['ticket_id']}:"
                                    f"{ticket['generation']}:{period}:{value:0{digits}d}")


if __name__ == "__main__":
    for ticket_id, code in codes(json.load(open(sys.argv[1])), sys.argv[2]):
        print(f"{ticket_id}\t{code}")
