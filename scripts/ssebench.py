#!/usr/bin/env python3
"""Measures Slipway's live streams for `make bench`. Prints one JSON object.

    ssebench.py latency    URL --cookie C --seconds 10     # container line → SSE client
    ssebench.py throughput URL --cookie C --seconds 10     # lines/s one viewer receives
    ssebench.py viewers    URL --cookie C --count 500 --pid PID   # RSS with N viewers

Latency compares each runtime line's Docker timestamp (when the container wrote it) with
the moment the line arrives here; both clocks are this machine's.
"""

import argparse
import asyncio
import json
import time
from datetime import datetime
from urllib.parse import urlsplit


async def connect(url, cookie):
    target = urlsplit(url)
    reader, writer = await asyncio.open_connection(target.hostname, target.port or 80)
    path = target.path + ("?" + target.query if target.query else "")
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {target.netloc}\r\nAccept: text/event-stream\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise SystemExit(f"{url}: HTTP {status}")
    chunked = b"chunked" in head.lower()
    return reader, writer, chunked


async def events(reader, chunked):
    """Yields (event, data) as they arrive."""
    buffer = b""
    while True:
        if chunked:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.strip().split(b";")[0], 16)
            if size == 0:
                return
            chunk = await reader.readexactly(size + 2)
            buffer += chunk[:-2]
        else:
            chunk = await reader.read(65536)
            if not chunk:
                return
            buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode("utf-8", "replace").split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
            if data or name != "message":
                yield name, "\n".join(data)


def docker_time(ts):
    # RFC 3339 with up to nanoseconds: Python keeps microseconds.
    date, _, frac = ts.rstrip("Z").partition(".")
    frac = (frac + "000000")[:6]
    return datetime.fromisoformat(f"{date}.{frac}+00:00").timestamp()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else None


async def latency(args):
    reader, writer, chunked = await connect(args.url, args.cookie)
    delays = []
    deadline = time.time() + args.seconds
    async for name, data in events(reader, chunked):
        now = time.time()
        if name == "message":
            delays.append(now - docker_time(json.loads(data)["ts"]))
        if now >= deadline:
            break
    writer.close()
    ms = lambda v: round(v * 1000, 1)
    return {"lines": len(delays), "p50_ms": ms(percentile(delays, 50)), "p99_ms": ms(percentile(delays, 99))}


async def throughput(args):
    reader, writer, chunked = await connect(args.url, args.cookie)
    count, started = 0, None
    deadline = None
    async for name, _ in events(reader, chunked):
        if name != "message":
            continue
        if started is None:
            started = time.time()
            deadline = started + args.seconds
        count += 1
        if time.time() >= deadline:
            break
    writer.close()
    elapsed = time.time() - started if started else 0
    return {"lines": count, "seconds": round(elapsed, 1), "lines_per_second": round(count / elapsed) if elapsed else 0}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def viewers(args):
    before = rss_kib(args.pid)
    opened = []
    for _ in range(args.count):
        reader, writer, chunked = await connect(args.url, args.cookie)
        stream = events(reader, chunked)
        await stream.__anext__()  # `ready`: the server holds this viewer now
        opened.append((writer, stream))
    await asyncio.sleep(2)
    during = rss_kib(args.pid)
    for writer, _ in opened:
        writer.close()
    return {"viewers": len(opened), "rss_before_kib": before, "rss_with_viewers_kib": during}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["latency", "throughput", "viewers"])
    parser.add_argument("url")
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    result = await {"latency": latency, "throughput": throughput, "viewers": viewers}[args.mode](args)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
