"""The GraphQL views of domain objects that are kept across requests."""

from __future__ import annotations

from dataclasses import replace

from graphql_api.types.master import RouteVersion
from tests.compile_inputs import compiled


def test_a_route_version_view_is_made_once_per_version_object() -> None:
    version = replace(compiled(), id=987_654)
    view = RouteVersion.of(version)
    assert RouteVersion.of(version) is view
    assert [s.step_no for s in view.steps] == [10, 20, 30] and view.version_no == 1
    # the same id on another object (a process that read the row again): a view of its own
    again = replace(version, version_no=2)
    assert RouteVersion.of(again) is not view and RouteVersion.of(again).version_no == 2
