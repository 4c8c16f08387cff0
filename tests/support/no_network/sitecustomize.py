"""Loaded by Python at start-up (on PYTHONPATH): every connection or name
lookup that leaves the machine fails and is recorded in $IG_NET_LOG."""

import os
import socket

_LOG = os.environ["IG_NET_LOG"]
_LOCAL_NAMES = {None, "", "localhost", "::1", "0.0.0.0", "::"}
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    return host in _LOCAL_NAMES or str(host).startswith("127.")


def _record(what: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(what + "\n")


def connect(self, address):
    if self.family == getattr(socket, "AF_UNIX", None) or _local(address[0]):
        return _connect(self, address)
    _record(f"connect {address[0]}:{address[1]}")
    raise OSError("network disabled by the no-network test")


def connect_ex(self, address):
    if self.family == getattr(socket, "AF_UNIX", None) or _local(address[0]):
        return _connect_ex(self, address)
    _record(f"connect_ex {address[0]}:{address[1]}")
    return 111


def getaddrinfo(host, *args, **kwargs):
    if _local(host):
        return _getaddrinfo(host, *args, **kwargs)
    _record(f"getaddrinfo {host}")
    raise socket.gaierror(socket.EAI_NONAME, "network disabled by the no-network test")


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
