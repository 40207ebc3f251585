"""`mes cfx consume` with a recording sink in place of the CFX pipeline (the subprocess of
tests/amqp/test_cli_consume.py): the UniqueID of each envelope is appended to the file named
by MES_TEST_SINK_FILE, and each is ACCEPTED."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from domain.actors import Actor
from graphql_api import cli_cfx
from graphql_api.cli import main


class FileSink:
    async def receive(self, envelopes: list[Any], actor: Actor) -> list[Any]:
        with Path(os.environ["MES_TEST_SINK_FILE"]).open("a") as out:  # noqa: ASYNC230 (a test's few bytes)
            out.writelines(f"{e.get('UniqueID')}\n" for e in envelopes)
        return [SimpleNamespace(status="ACCEPTED", error=None) for _ in envelopes]


cli_cfx.sink_of = lambda services: FileSink()

if __name__ == "__main__":
    main()
