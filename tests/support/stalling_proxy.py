"""A TCP relay on loopback that can stall: `freeze()` stops relaying bytes in both directions
while every socket stays open, as a hung database server or a black-holed network looks to the
client (the kernel still accepts and acknowledges, nothing ever answers); `thaw()` resumes.

It can also cut: `cut()` resets every relayed connection at once (both sides get a TCP reset, as
when the server restarts or a firewall drops the connections), and until `restore()` every new
connection is reset as soon as it arrives."""

from __future__ import annotations

import selectors
import socket
import struct
import threading


class StallingProxy:
    """Forwards 127.0.0.1:<port> to `target` until closed; a context manager."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._stop = threading.Event()
        self._cut = False  # while set, connections are reset; changed only by the relay's thread
        self._requests: list[tuple[bool, threading.Event]] = []  # (cut?, done) for that thread
        self._requests_lock = threading.Lock()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="stalling-proxy", daemon=True)
        self._thread.start()

    def freeze(self) -> None:
        """Stop relaying: bytes stay in the kernel's buffers, connections stay open."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Relay again, including whatever waited while frozen."""
        self._flowing.set()

    def cut(self) -> None:
        """Reset every relayed connection now, and every new one until `restore()`. Returns once
        done, so that the next round trip of the client already meets a dead socket."""
        self._ask(True)

    def restore(self) -> None:
        """Accept and relay new connections again (the ones cut stay gone)."""
        self._ask(False)

    def _ask(self, cut: bool) -> None:
        done = threading.Event()
        with self._requests_lock:
            self._requests.append((cut, done))
        if not done.wait(5):
            raise RuntimeError("the relay's thread did not answer")

    def close(self) -> None:
        self._stop.set()
        self._flowing.set()
        self._thread.join(timeout=5)
        for sock in [self._listener, *self._peers]:
            sock.close()
        self._selector.close()

    def __enter__(self) -> "StallingProxy":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._serve_requests()
            if not self._flowing.is_set():
                # Frozen: touch no socket at all, not even the listener (new connections wait in
                # the kernel's backlog, as they would in front of a hung server).
                self._flowing.wait(0.05)
                continue
            for key, _events in self._selector.select(timeout=0.05):
                if not self._flowing.is_set():
                    break
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._relay(key.fileobj)

    def _serve_requests(self) -> None:
        with self._requests_lock:
            requests, self._requests = self._requests, []
        for cut, done in requests:
            self._cut = cut
            if cut:
                for sock in list(self._peers):
                    self._selector.unregister(sock)
                    _reset(sock)
                self._peers.clear()
            done.set()

    def _accept(self) -> None:
        try:
            client, _address = self._listener.accept()
        except BlockingIOError:
            return
        if self._cut:
            _reset(client)
            return
        client.setblocking(True)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._peers[client] = upstream
        self._peers[upstream] = client
        for sock in (client, upstream):
            self._selector.register(sock, selectors.EVENT_READ)

    def _relay(self, source: socket.socket) -> None:
        destination = self._peers.get(source)
        if destination is None:
            return
        try:
            data = source.recv(65536)
            if data:
                destination.sendall(data)
                return
        except OSError:
            pass
        for sock in (source, destination):  # one side ended: end the other too
            self._peers.pop(sock, None)
            self._selector.unregister(sock)
            sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0) rather than an orderly end: the peer's next read or
    write fails at once, "connection reset by peer"."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()
