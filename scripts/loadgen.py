#!/usr/bin/env python3
"""Open-loop HTTP load at a fixed rate, for `make bench`: request i is due at start + i/rate
whether or not earlier ones have answered (wrk runs flat out, so it cannot say "200 requests
per second"). Keep-alive connections, as browsers and proxies use them.

    loadgen.py --rate 200 --seconds 25 --host app.localhost http://127.0.0.1:8080/

Prints one JSON object: requests sent, answers by status, failures, keep-alive retries,
latency percentiles, how late the generator fell behind, and how many answers contained each
--mark string (to see a redeploy switch versions).

A request on a reused connection that the server closed before sending a byte (nginx closes
idle keep-alive connections when it reloads) is retried once on a new connection, as browsers
and HTTP client libraries do; such retries are counted apart. Anything else that does not end
in a 2xx answer is a failure.
"""

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


class Stats:
    def __init__(self, marks):
        self.sent = 0
        self.status = {}
        self.failures = 0
        self.errors = {}
        self.retries = 0
        self.latencies = []
        self.max_lag = 0.0
        self.marks = {m: 0 for m in marks}

    def fail(self, why):
        self.failures += 1
        self.errors[why] = self.errors.get(why, 0) + 1


class Connection:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.used = False

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = False

    def close(self):
        if self.writer:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw):
        """Returns (status, body), or raises. `NoAnswer` when nothing at all came back."""
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.used = True
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


async def worker(args, stats, raw, start, counter, deadline):
    target = urlsplit(args.url)
    conn = Connection(target.hostname, target.port or 80)
    while True:
        i = next(counter)
        due = start + i / args.rate
        if due >= deadline:
            break
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        else:
            stats.max_lag = max(stats.max_lag, now - due)
        stats.sent += 1
        began = time.monotonic()
        for attempt in (1, 2):
            reused = conn.writer is not None and conn.used
            try:
                status, body = await asyncio.wait_for(conn.request(raw), args.timeout)
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                conn.close()
                partial = isinstance(e, asyncio.IncompleteReadError) and e.partial
                if attempt == 1 and reused and not partial:
                    stats.retries += 1
                    continue
                stats.fail(type(e).__name__)
                break
            except asyncio.TimeoutError:
                conn.close()
                stats.fail("timeout")
                break
            except OSError as e:
                conn.close()
                stats.fail(type(e).__name__)
                break
            stats.latencies.append(time.monotonic() - began)
            stats.status[status] = stats.status.get(status, 0) + 1
            if not 200 <= status < 300:
                stats.failures += 1
            text = body.decode("utf-8", "replace")
            for mark in stats.marks:
                if mark in text:
                    stats.marks[mark] += 1
            break
    conn.close()


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--host", help="Host header (default: the URL's)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--mark", action="append", default=[])
    args = parser.parse_args()
    target = urlsplit(args.url)
    path = target.path or "/"
    if target.query:
        path += "?" + target.query
    host = args.host or target.netloc
    raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: slipway-loadgen\r\n\r\n".encode()
    stats = Stats(args.mark)
    start = time.monotonic() + 0.2
    deadline = start + args.seconds

    def counter():
        i = 0
        while True:
            yield i
            i += 1

    shared = counter()
    await asyncio.gather(
        *(worker(args, stats, raw, start, shared, deadline) for _ in range(args.connections))
    )
    elapsed = time.monotonic() - start
    ms = lambda v: None if v is None else round(v * 1000, 1)
    print(
        json.dumps(
            {
                "rate": args.rate,
                "seconds": round(elapsed, 1),
                "sent": stats.sent,
                "achieved_rate": round(stats.sent / elapsed, 1),
                "status": {str(k): v for k, v in sorted(stats.status.items())},
                "failures": stats.failures,
                "errors": stats.errors,
                "keepalive_retries": stats.retries,
                "p50_ms": ms(percentile(stats.latencies, 50)),
                "p99_ms": ms(percentile(stats.latencies, 99)),
                "max_ms": ms(max(stats.latencies) if stats.latencies else None),
                "max_lag_ms": ms(stats.max_lag),
                "marks": stats.marks,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
