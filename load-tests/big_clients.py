#!/usr/bin/env python3
"""big_clients.py HOST:PORT [--clients 10] [--size 50000000] : send one large message on each of
N concurrent connections (threads; the payload is generated once and sent in 64 KiB writes), all
started together. Prints one key=value line: clients, size, ok (250s), secs, codes.
For bench-big-messages.sh, which samples the server's memory meanwhile."""
import argparse
import socket
import threading
import time


def read_reply(sock, buf):
    while True:
        while b"\r\n" not in buf[0]:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf[0] += chunk
        line, buf[0] = buf[0].split(b"\r\n", 1)
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


def one(host, port, payload, start, results, i):
    start.wait()
    try:
        with socket.create_connection((host, port), timeout=300) as s:
            buf = [b""]
            assert read_reply(s, buf) == 220
            s.sendall(b"EHLO big.test\r\n")
            read_reply(s, buf)
            s.sendall(f"MAIL FROM:<big{i}@src.test> SIZE={len(payload)}\r\n".encode())
            assert read_reply(s, buf) == 250
            s.sendall(b"RCPT TO:<sink@example.test>\r\n")
            assert read_reply(s, buf) == 250
            s.sendall(b"DATA\r\n")
            assert read_reply(s, buf) == 354
            view = memoryview(payload)
            for off in range(0, len(view), 65536):
                s.sendall(view[off:off + 65536])
            s.sendall(b".\r\n")
            results[i] = read_reply(s, buf)
            s.sendall(b"QUIT\r\n")
    except Exception as e:  # reported, not raised: the line says how many got 250
        results[i] = f"error:{type(e).__name__}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--size", type=int, default=50_000_000)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    line = b"X" * 76 + b"\r\n"
    payload = b"Subject: big\r\n\r\n" + line * (a.size // len(line))
    start = threading.Event()
    results = [None] * a.clients
    threads = [threading.Thread(target=one, args=(host, int(port), payload, start, results, i)) for i in range(a.clients)]
    for t in threads:
        t.start()
    t0 = time.time()
    start.set()
    for t in threads:
        t.join()
    ok = sum(1 for r in results if r == 250)
    print(f"clients={a.clients} size={len(payload)} ok={ok} secs={time.time() - t0:.2f} codes={','.join(map(str, results))}")


if __name__ == "__main__":
    main()
