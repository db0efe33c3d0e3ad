#!/usr/bin/env python3
"""Checks that a reactor prototype passes on a peer's end of file that arrives right
behind its last bytes. A relay that takes every short read to mean "drained" waits for
an edge that never comes: the end of file is already in the socket and raised its edge
with the bytes. bench/run.sh runs this before it measures a prototype.

Usage: check_end_of_file.py RELAY_BINARY   (exits 1 if an end went missing)"""
import socket
import subprocess
import sys
import time

TRIALS = 20


def main() -> int:
    backend = socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen(TRIALS)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    relay = subprocess.Popen([sys.argv[1], str(port), str(backend.getsockname()[1]), "1"])
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                backend.accept()[0].close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        missing = 0
        for _ in range(TRIALS):
            client = socket.create_connection(("127.0.0.1", port))
            server, _ = backend.accept()
            server.settimeout(2)
            time.sleep(0.02)  # both relay directions are waiting now
            # Corked, the bytes wait for the end and leave with it in one segment.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            client.sendall(b"partial")
            client.shutdown(socket.SHUT_WR)
            got = b""
            try:
                while chunk := server.recv(100):
                    got += chunk
            except socket.timeout:
                got = None
            missing += got != b"partial"
            server.close()
            client.close()
        print(f"{sys.argv[1]}: {TRIALS - missing} of {TRIALS} ends passed on")
        return 1 if missing else 0
    finally:
        relay.kill()
        relay.wait()


if __name__ == "__main__":
    sys.exit(main())
