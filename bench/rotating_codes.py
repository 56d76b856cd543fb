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

bundle = json.load(open(sys.argv[1]))
rotating = bundle["rotating"]
period, digits = rotating["period_seconds"], rotating["digits"]
counter = struct.pack(">Q", int(time.time()) // period)
for ticket in rotating["tickets"]:
    mac = hmac.new(bytes.fromhex(ticket["key"]), counter, hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    code = f"RC1:{sys.argv[2]}:{ticket['ticket_id']}:{ticket['generation']}:{period}:{value:0{digits}d}"
    print(f"{ticket['ticket_id']}\t{code}")
