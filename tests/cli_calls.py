"""The `mes` command run in-process, and `mes token list` read by its columns: shared by the
CLI tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from click.testing import CliRunner, Result

from graphql_api.cli import main


def invoke(*args: str) -> Result:
    # the CLI runs its own event loop (asyncio.run): keep it off pytest-asyncio's thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main, list(args)).result()


def token_rows(url: str) -> dict[str, dict[str, str]]:
    """`mes token list` read by its header's columns: the last row of each name."""
    listed = invoke("token", "list", "--database-url", url)
    assert listed.exit_code == 0, listed.output
    header, *lines = listed.output.splitlines()
    names = ["NAME", "SCOPES", "SOURCES", "STATIONS", "CREATED (UTC)", "REVOKED (UTC)"]
    starts = [header.index(n) for n in names]
    assert starts == sorted(starts), header
    ends = [*starts[1:], None]
    return {
        line[: starts[1]].strip(): {
            n: line[a:b].strip() for n, a, b in zip(names, starts, ends, strict=True)
        }
        for line in lines
    }


def secret_of(output: str) -> str:
    """The secret `mes token create` printed last."""
    last = output.strip().splitlines()[-1]
    assert last.startswith("mes_"), output
    return last
