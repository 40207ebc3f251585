"""All tables, as SQLAlchemy Core, in one MetaData (Alembic's target): one module per concept,
every table importable from here (`tables.unit`); importing this package registers them all."""

from sqlalchemy import Table  # the type of every table (`tables.Table` in annotations)

from adapters.tables.base import CODE, ENUM, metadata
from adapters.tables.carriers import (
    carrier,
    carrier_load,
    carrier_track,
    device_data_record,
    production_count,
)
from adapters.tables.cfx import cfx_work
from adapters.tables.ingest import (
    data_value,
    ingest_event,
    ingest_event_unit,
    ingest_rejection,
    ingest_rejection_sn,
    parked_event,
    parked_event_unit,
    test_result_key,
    track,
)
from adapters.tables.master_data import (
    data_spec,
    execution_config,
    line,
    line_shift,
    operation,
    route_version,
    routing,
    routing_step,
    station,
    station_group,
)
from adapters.tables.runs_and_units import (
    disposition,
    hold,
    hold_unit,
    panel,
    run,
    sn_sequence,
    unit,
    work_order,
)
from adapters.tables.security import (
    api_token,
    audit_event,
)

__all__ = [
    "CODE",
    "ENUM",
    "Table",
    "api_token",
    "audit_event",
    "carrier",
    "carrier_load",
    "carrier_track",
    "cfx_work",
    "data_spec",
    "data_value",
    "device_data_record",
    "disposition",
    "execution_config",
    "hold",
    "hold_unit",
    "ingest_event",
    "ingest_event_unit",
    "ingest_rejection",
    "ingest_rejection_sn",
    "line",
    "line_shift",
    "metadata",
    "operation",
    "panel",
    "parked_event",
    "parked_event_unit",
    "production_count",
    "route_version",
    "routing",
    "routing_step",
    "run",
    "sn_sequence",
    "station",
    "station_group",
    "test_result_key",
    "track",
    "unit",
    "work_order",
]
