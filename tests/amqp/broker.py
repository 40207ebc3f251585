"""The AMQP 1.0 broker of the tests (RabbitMQ with rabbitmq_amqp1_0 on this machine, or
MES_TEST_AMQP_URL): reach it, publish to a queue, count what a queue holds, delete a queue;
stop and start it (rabbitmqctl stop_app / start_app, as root: the fault test).

Every link here that may declare a queue (`/queue/NAME`) asks for a durable terminus, as the
consumer does (adapters/amqp.py `DurableTerminus`): RabbitMQ 3.x refuses a link whose
durability differs from that of the queue it finds (PRECONDITION_FAILED).

`python -m tests.amqp.broker --wait 30` (run by `make amqp`) waits until an AMQP 1.0
connection succeeds: the plugin takes a few seconds to start after it is enabled.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

from proton import Message, ProtonException, Timeout
from proton.utils import BlockingConnection

from adapters.amqp import DurableTerminus, SessionEnded, open_connection

AMQP_URL = os.environ.get("MES_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def reachable(url: str = AMQP_URL, timeout: float = 3.0) -> str | None:
    """None when an AMQP 1.0 connection opens, else why not."""
    try:
        BlockingConnection(url, timeout=timeout).close()
    except ProtonException as err:
        return f"{type(err).__name__}: {err}"
    return None


def wait_until_reachable(seconds: float, url: str = AMQP_URL) -> str | None:
    deadline = time.monotonic() + seconds
    while True:
        why = reachable(url)
        if why is None or time.monotonic() > deadline:
            return why
        time.sleep(0.5)


def publish(address: str, *bodies: Any, url: str = AMQP_URL, **properties: Any) -> None:
    """Send each body as one message (bytes as they are; anything else as JSON)."""
    conn = open_connection(url, 10)
    try:
        sender = conn.create_sender(address, options=DurableTerminus())
        for body in bodies:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sender.send(Message(body=data, **properties))
    finally:
        conn.close()


def declare_durable(name: str, url: str = AMQP_URL) -> str:
    """Declare queue `name` durable (it and its durable messages survive a broker restart), as
    the README recommends, and return the address of the existing queue, `/amq/queue/NAME`."""
    conn = open_connection(url, 10)
    try:
        conn.create_sender(f"/queue/{name}", options=DurableTerminus())
    finally:
        conn.close()
    return f"/amq/queue/{name}"


def declare_transient(name: str, url: str = AMQP_URL) -> None:
    """Declare queue `name` transient (a link of no durability, proton's default, to
    `/queue/NAME`): it lasts until the broker restarts."""
    conn = open_connection(url, 10)
    try:
        conn.create_sender(f"/queue/{name}")
    finally:
        conn.close()


def existing(address: str) -> str:
    """The address of the existing queue behind `/queue/NAME` (or a bare NAME): `/amq/queue/NAME`,
    which RabbitMQ never declares, so a link of any durability attaches to it."""
    if address.startswith("/queue/"):
        return "/amq/queue/" + address.removeprefix("/queue/")
    return address if address.startswith("/") else f"/amq/queue/{address}"


def gzipped(document: Any) -> bytes:
    return gzip.compress(json.dumps(document).encode())


def drain(address: str, url: str = AMQP_URL, wait_s: float = 0.5) -> list[Message]:
    """Receive (and accept) every message the queue holds now; none when there is no such queue
    (reading declares nothing, so any durability attaches, and a reply queue is left for its
    sender to declare)."""
    conn = open_connection(url, 10)
    got: list[Message] = []
    try:
        try:
            receiver = conn.create_receiver(existing(address), credit=50)
        except SessionEnded as err:
            if err.condition == "amqp:not-found":
                return got
            raise
        while True:
            try:
                msg = receiver.receive(timeout=wait_s)
            except Timeout:
                return got
            got.append(msg)
            receiver.accept()
    finally:
        conn.close()


def delete_queue(name: str) -> None:
    """Best effort (rabbitmqctl, as root): the tests' queues outlive their links."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is not None and os.geteuid() == 0:
        subprocess.run([ctl, "-q", "delete_queue", name], capture_output=True, timeout=30)


def _rabbitmqctl() -> str | None:
    """rabbitmqctl when this process may drive the local broker with it (as root), else None."""
    ctl = shutil.which("rabbitmqctl")
    return ctl if ctl is not None and os.geteuid() == 0 else None


def why_not_restartable() -> str | None:
    """None when `restart` can stop and start the broker here, else why not."""
    if AMQP_URL != "amqp://guest:guest@127.0.0.1:5672":
        return f"the broker is not this machine's RabbitMQ (MES_TEST_AMQP_URL={AMQP_URL})"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed"
    if os.geteuid() != 0:
        return "rabbitmqctl needs root (the tests do not run as root)"
    return None


def needs_rabbitmqctl(what: str) -> None:
    """Skip saying why when the broker cannot be driven by rabbitmqctl here; fail under CI."""
    import pytest

    from tests.conftest import IN_CI

    why = why_not_restartable()
    if why is not None:
        reason = f"{what}: {why}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def stop_app() -> None:
    """Stop the RabbitMQ application (the node stays up): every connection is closed."""
    ctl = _rabbitmqctl()
    assert ctl is not None, why_not_restartable()
    subprocess.run([ctl, "-q", "stop_app"], check=True, capture_output=True, timeout=60)


def start_app(wait_s: float = 30.0) -> None:
    """Start the RabbitMQ application again and wait for an AMQP 1.0 connection."""
    ctl = _rabbitmqctl()
    assert ctl is not None, why_not_restartable()
    subprocess.run([ctl, "-q", "start_app"], check=True, capture_output=True, timeout=60)
    why = wait_until_reachable(wait_s)
    assert why is None, f"the broker did not come back in {wait_s} s: {why}"


def _listed(name: str, column: str) -> str | None:
    """Queue `name`'s `column` as `rabbitmqctl list_queues` shows it (as root); None when
    unknown (no such queue, no rabbitmqctl)."""
    ctl = _rabbitmqctl()
    if ctl is None:
        return None
    listed = subprocess.run(
        [ctl, "-q", "list_queues", "--no-table-headers", "name", column],
        capture_output=True,
        text=True,
        timeout=30,
    )
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return parts[1]
    return None


def queue_depth(name: str) -> int | None:
    """The messages queue `name` holds, ready or delivered and not yet settled (rabbitmqctl,
    as root); None when unknown (no such queue, no rabbitmqctl)."""
    found = _listed(name, "messages")
    return None if found is None else int(found)


def queue_durable(name: str) -> bool | None:
    """Whether queue `name` is durable (rabbitmqctl, as root); None when unknown."""
    found = _listed(name, "durable")
    return None if found is None else found == "true"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait at most")
    why = wait_until_reachable(parser.parse_args().wait)
    if why is not None:
        print(f"no AMQP 1.0 broker at {AMQP_URL}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


def envelope(n: int) -> dict[str, Any]:
    """A small CFX envelope (UnitsArrived, no units), numbered."""
    return {
        "MessageName": "CFX.Production.UnitsArrived",
        "UniqueID": f"00000000-0000-0000-0000-{n:012d}",
        "TimeStamp": "2026-12-06T10:15:30.1234567+01:00",
        "Source": "Vendor.Model.1",
        "MessageBody": {},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
