"""Argon2id key derivation that is safe to run on many threads at once.

`cryptography`'s Argon2id (50.x on OpenSSL 4) hangs or raises MemoryError when two derivations
run at the same time in one process, and a hung derivation holds its database transaction's
locks for ever. The reference implementation behind argon2-cffi has no such shared state and
releases the GIL, and for the same parameters it gives byte-identical output (RFC 9106), so
receipts and password wraps made before keep opening. A process-wide semaphore bounds how
many derivations run at once: each takes its full memory cost (64 MiB by default), and more
of them than there are cores only makes each one slower.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

from argon2.exceptions import HashingError
from argon2.low_level import ARGON2_VERSION, Type, core, error_to_str, ffi, hash_secret_raw

# One derivation per core: beyond that they compete for the same CPUs and add memory.
_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


@contextmanager
def slot():
    """Hold one of the process's Argon2 slots (also used around password-hash verification)."""
    with _SLOTS:
        yield


def derive(secret: bytes, salt: bytes, *, iterations: int, lanes: int, memory_kib: int, length: int,
           pepper: bytes | None = None) -> bytes:
    """Raw Argon2id output of `length` bytes; `pepper` is Argon2's optional secret key (K)."""
    with slot():
        if not pepper:
            return hash_secret_raw(secret, salt, time_cost=iterations, memory_cost=memory_kib,
                                   parallelism=lanes, hash_len=length, type=Type.ID)
        return _derive_keyed(secret, salt, iterations, lanes, memory_kib, length, pepper)


def _derive_keyed(secret: bytes, salt: bytes, iterations: int, lanes: int, memory_kib: int, length: int,
                  pepper: bytes) -> bytes:
    # argon2-cffi's high-level calls do not take Argon2's secret key, so the context is filled in
    # here; tests/storage/test_argon2id.py checks the output against another implementation.
    out = ffi.new("uint8_t[]", length)
    buffers = [ffi.new("uint8_t[]", value) for value in (secret, salt, pepper)]
    context = ffi.new("argon2_context *", {
        "out": out, "outlen": length,
        "pwd": buffers[0], "pwdlen": len(secret),
        "salt": buffers[1], "saltlen": len(salt),
        "secret": buffers[2], "secretlen": len(pepper),
        "ad": ffi.NULL, "adlen": 0,
        "t_cost": iterations, "m_cost": memory_kib, "lanes": lanes, "threads": lanes,
        "version": ARGON2_VERSION, "allocate_cbk": ffi.NULL, "free_cbk": ffi.NULL, "flags": 0,
    })
    status = core(context, Type.ID.value)
    if status != 0:
        raise HashingError(error_to_str(status))
    return bytes(ffi.buffer(out, length))
