"""pcap_latency.py — assignment latency seen on the wire.

Reads a pcap of loopback traffic to/from the coordinator's port (tcpdump -i lo
-s 0 'tcp port P'), reassembles each worker's TCP connection in both
directions, parses ZMTP 3 frames and the first byte of each protobuf Envelope
(its oneof tag), and for every TrialComplete a worker sends, finds the next
TrialAssign the coordinator sends to that same connection. The difference of
the two packet timestamps is the assignment latency: from the moment the
worker's result is on the wire to the moment its next trial is on the wire
(the worker's own microseconds before sending / after receiving excluded).

Pure Python, no dependencies (pcap format: 24-byte header, 16-byte records).
"""
import struct
import sys

# Envelope oneof fields (proto/hpt.proto): tag byte = field << 3 | 2.
KIND = {0x0A: "hello", 0x12: "welcome", 0x1A: "refused", 0x22: "who_are_you",
        0x2A: "assign", 0x32: "report", 0x3A: "verdict", 0x42: "complete",
        0x4A: "failed", 0x52: "heartbeat"}


class Stream:
    """One direction of one TCP connection, parsed as ZMTP 3 frames."""

    def __init__(self):
        self.next_seq = None
        self.buf = bytearray()
        self.greeting_left = 64
        self.broken = False

    def feed(self, seq, payload, syn):
        if syn:
            self.next_seq = (seq + 1) & 0xFFFFFFFF
            return []
        if self.broken or not payload:
            return []
        if self.next_seq is None:  # capture started mid-connection
            self.broken = True
            return []
        if seq != self.next_seq:
            diff = (self.next_seq - seq) & 0xFFFFFFFF
            if diff < 0x80000000 and diff >= len(payload):
                return []  # pure retransmission
            if diff < 0x80000000:  # partial overlap
                payload = payload[diff:]
            else:  # a gap: a packet was lost by the capture
                self.broken = True
                return []
        self.next_seq = (self.next_seq + len(payload)) & 0xFFFFFFFF
        self.buf += payload
        return self._frames()

    def _frames(self):
        out = []
        b = self.buf
        pos = 0
        if self.greeting_left:
            take = min(self.greeting_left, len(b))
            self.greeting_left -= take
            pos = take
        while True:
            if len(b) - pos < 2:
                break
            flags = b[pos]
            if flags & 0x02:
                if len(b) - pos < 9:
                    break
                size = struct.unpack(">Q", bytes(b[pos + 1:pos + 9]))[0]
                head = 9
            else:
                size = b[pos + 1]
                head = 2
            if len(b) - pos < head + size:
                break
            body = b[pos + head:pos + head + size]
            if not flags & 0x04 and size > 0:  # a message frame, not a command
                out.append(KIND.get(body[0], "other"))
            pos += head + size
        del b[:pos]
        return out


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        scale = 1e-6
    elif magic == 0xA1B23C4D:
        scale = 1e-9
    else:
        raise SystemExit(f"{path}: not a little-endian pcap")
    linktype = struct.unpack("<I", data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack("<IIII", data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if linktype == 1:  # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:  # Linux cooked
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        off = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield sec + frac * scale, sport, dport, seq, bytes(tcp[off:]), bool(flags & 0x02)


def latencies(path, port):
    """Returns (list of latencies in seconds, stats dict)."""
    streams = {}
    events = {}  # worker port -> list of (t, direction, kind)
    for t, sport, dport, seq, payload, syn in read_pcap(path):
        if dport == port:
            key, wport, direction = (sport, "w2c"), sport, "w2c"
        elif sport == port:
            key, wport, direction = (dport, "c2w"), dport, "c2w"
        else:
            continue
        s = streams.setdefault(key, Stream())
        for kind in s.feed(seq, payload, syn):
            events.setdefault(wport, []).append((t, direction, kind))
    lat = []
    counts = {}
    for wport, evs in events.items():
        pending = None
        for t, direction, kind in evs:
            counts[direction + ":" + kind] = counts.get(direction + ":" + kind, 0) + 1
            if direction == "w2c" and kind in ("complete", "failed"):
                pending = t
            elif direction == "c2w" and kind == "assign" and pending is not None:
                lat.append(t - pending)
                pending = None
    broken = sum(1 for s in streams.values() if s.broken)
    return lat, {"connections": len(events), "broken_streams": broken,
                 "messages": counts}


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


if __name__ == "__main__":
    lat, info = latencies(sys.argv[1], int(sys.argv[2]))
    print(info)
    print("n=%d p50=%.3f ms p99=%.3f ms" % (len(lat), percentile(lat, 50) * 1e3,
                                           percentile(lat, 99) * 1e3))
