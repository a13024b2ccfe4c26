"""Joining a Ray cluster, or starting one on this computer, safely.

Anyone who reaches an unauthenticated Ray's ports can run code on it.  A Ray started here has its
dashboard and job API off and its token authentication on, with a secret made for the run; a cluster
of several computers belongs on a private network with token authentication on (README,
"Clusters"), and ``address_warning`` says when the head's address is neither loopback nor private.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from engine.errors import ConfigurationError

#: The secret of every Ray this process starts (engine.distributed.cluster.connected).
_TOKEN = secrets.token_hex(32)
#: How to install Ray, in one sentence's tail.
INSTALL_RAY = "install it with: pip install 'docclean[ray]'"


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how wide a batch runs on Ray.

    ``address``: a cluster's head (HOST:PORT, or "auto" for the one this computer belongs to); None joins
    the one RAY_ADDRESS names, else starts a Ray here.  ``workers``: how many worker processes clean pages
    (None: as many as the cluster's CPUs allow).  ``cpus_per_worker``: the CPUs each worker takes, and the
    threads its model runs on.
    """

    address: Optional[str] = None
    workers: Optional[int] = None
    cpus_per_worker: int = 1

    def check(self) -> ClusterOptions:
        """These options, or ConfigurationError saying in one sentence what is wrong."""
        if self.workers is not None and self.workers < 1:
            raise ConfigurationError(f"a cluster run needs at least one worker, not {self.workers}")
        if self.cpus_per_worker < 1:
            raise ConfigurationError(f"each worker needs at least one CPU, not {self.cpus_per_worker}")
        return self

    @property
    def chosen_address(self) -> Optional[str]:
        """The cluster asked for: ``address``, else RAY_ADDRESS; None to start one here."""
        return self.address or os.environ.get("RAY_ADDRESS") or None


def ray_installed() -> bool:
    """Whether Ray can be imported here, found without importing it."""
    from importlib.util import find_spec

    return find_spec("ray") is not None


def ray_module() -> Any:
    """Ray, imported; ConfigurationError in one sentence where it is not installed."""
    try:
        import ray
    except ImportError:
        raise ConfigurationError(f"running on a cluster needs Ray, which is not installed: {INSTALL_RAY}") from None
    return ray


@contextmanager
def connected(options: ClusterOptions, say: Any = None) -> Iterator[Any]:
    """Ray, joined to the cluster ``options`` name or started on this computer, until the block ends.

    ``say`` (a callable taking a sentence) hears which: a Ray started here is said to be so.
    """
    address = options.chosen_address
    # Ray binds its services to this computer's network address whatever it is told, so what guards a
    # Ray started here is its token authentication: on, with a token made for this process that only
    # Ray's own processes (which inherit it) hold, never written to disk.  Set before Ray is imported:
    # it reads them once, so every Ray this process starts has the same token.
    secret = {} if address is not None else {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": _TOKEN}
    with _environment(secret):
        ray = ray_module()
        if ray.is_initialized():  # a caller (a test, a notebook) joined one already
            yield ray
            return
        if address is None:
            cpus = os.cpu_count() or 1
            try:
                ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
            except (RuntimeError, ConnectionError, OSError):
                raise ConfigurationError("Ray could not be started on this computer (its logs are under "
                                         "/tmp/ray): clean without --engine ray, or start a cluster and give "
                                         "its --address") from None
            if say is not None:
                say(f"started Ray on this computer with {cpus} CPUs (no dashboard; its services answer only "
                    "this run's secret token)")
        else:
            try:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            except ConnectionError:
                raise ConfigurationError(f"no Ray cluster answers at {address}: start its head "
                                         "(ray start --head) or give another --address") from None
            if say is not None:
                say(f"joined the Ray cluster at {address}")
        try:
            yield ray
        finally:
            ray.shutdown()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in the environment while the block runs, the environment as it was after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def address_warning(address: str) -> Optional[str]:
    """A sentence when a cluster's head at ``address`` (HOST:PORT) is reachable beyond a private network."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host in ("", "auto", "localhost"):
        return None
    try:
        ips = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return None  # an address that does not resolve is refused by Ray itself, in its turn
    public = [ip for ip in ips if not (ipaddress.ip_address(ip).is_private or ipaddress.ip_address(ip).is_loopback)]
    if not public:
        return None
    return (f"the cluster's head {host} has a public address ({public[0]}): anyone who reaches Ray's ports can "
            "run code there; keep the cluster on a private network or behind a firewall")
