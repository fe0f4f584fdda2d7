#!/usr/bin/env python3
"""tls_front.py PORT TARGET_PORT CERT KEY [TIMEOUT_S]: a one-connection TLS front.

Accepts one TLS connection on 127.0.0.1:PORT (Python's ssl, that is OpenSSL, with
CERT and KEY), connects to 127.0.0.1:TARGET_PORT in plain TCP and copies bytes both
ways until either side closes. FFmpeg's `-listen` cannot serve rtmps:// itself
("rtmp_listen not available for rtmps"); this puts TLS in front of it, as stunnel
or nginx's stream module would in production, so a test can push to an RTMPS
server that is not ours. Everything ends after TIMEOUT_S (default 60).
"""
import select
import socket
import ssl
import sys
import time


def relay(front, back, timeout):
    """Copies both ways in one thread (an SSL socket must not be read and written
    from two threads at once) until a side closes or nothing moves for TIMEOUT."""
    for s in (front, back):
        s.setblocking(False)
    peer = {front: back, back: front}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([front, back], [], [], 1.0)
        for source in ready:
            while True:
                try:
                    data = source.recv(65536)
                except (ssl.SSLWantReadError, BlockingIOError):
                    break
                except OSError:
                    return
                if not data:
                    return
                sink = peer[source]
                sink.settimeout(timeout)
                sink.sendall(data)
                sink.setblocking(False)
                # Records already decrypted wait in the SSL layer, not the socket.
                if not (source is front and front.pending()):
                    break


def main():
    port, target = int(sys.argv[1]), int(sys.argv[2])
    cert, key = sys.argv[3], sys.argv[4]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with socket.create_server(("127.0.0.1", port)) as server:
        server.settimeout(timeout)
        print("listening", flush=True)
        connection, _ = server.accept()
        connection.settimeout(timeout)
        front = context.wrap_socket(connection, server_side=True)
        back = socket.create_connection(("127.0.0.1", target), timeout=timeout)
        relay(front, back, timeout)
        print(f"done, {front.version()}", flush=True)
        for s in (front, back):
            s.close()


if __name__ == "__main__":
    main()
