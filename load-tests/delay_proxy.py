#!/usr/bin/env python3
"""delay_proxy.py — a user-space stand-in for `tc netem delay` where the kernel
has no sch_netem: a TCP relay that holds every byte for DELAY ms in each
direction, so a client talking through it sees a round trip of 2 x DELAY.

    delay_proxy.py LISTEN_ADDR:PORT TARGET_ADDR:PORT --delay-ms 25

Each chunk is stamped when it arrives and written out DELAY ms later, in order
(one queue and one writer per direction); the connection to the target is
opened DELAY ms after the client's (the SYN's trip), and EOF travels like data.
What it cannot imitate: the client's own TCP handshake completes at once (the
relay accepts locally), so a client's connect() costs no round trip here;
timings that compare two ways of talking (both paying the same connect) are
unaffected. Timer precision is that of asyncio (well under 1 ms).
"""
import argparse
import asyncio
import socket


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def pump(reader, queue, delay, loop):
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                return
    except (ConnectionError, OSError):
        queue.put_nowait((loop.time() + delay, b""))


async def deliver(queue, writer_future, loop):
    writer = await writer_future
    try:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


async def relay(client_reader, client_writer, target, delay):
    loop = asyncio.get_running_loop()
    nodelay(client_writer)
    upstream = loop.create_future()
    to_server, to_client = asyncio.Queue(), asyncio.Queue()
    tasks = [asyncio.create_task(pump(client_reader, to_server, delay, loop)),
             asyncio.create_task(deliver(to_server, upstream, loop))]
    await asyncio.sleep(delay)  # the SYN's trip to the server
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.close()
        for t in tasks:
            t.cancel()
        return
    nodelay(server_writer)
    upstream.set_result(server_writer)
    done = loop.create_future()
    done.set_result(client_writer)
    tasks += [asyncio.create_task(pump(server_reader, to_client, delay, loop)),
              asyncio.create_task(deliver(to_client, done, loop))]
    await asyncio.gather(tasks[1], tasks[3], return_exceptions=True)
    for t in tasks:
        t.cancel()
    for w in (client_writer, server_writer):
        w.close()


def addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("listen", type=addr)
    ap.add_argument("target", type=addr)
    ap.add_argument("--delay-ms", type=float, default=25.0)
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0
    server = await asyncio.start_server(lambda r, w: relay(r, w, a.target, delay), *a.listen)
    print(f"delay_proxy listening on {a.listen[0]}:{a.listen[1]} -> {a.target[0]}:{a.target[1]}, "
          f"{a.delay_ms} ms each way", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
