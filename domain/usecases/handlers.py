"""Which handler serves which command: the bus's routing table."""

from __future__ import annotations

from domain.usecases import carriers as ca
from domain.usecases import counts as co
from domain.usecases import device as dv
from domain.usecases import holds as ho
from domain.usecases import lifecycle as lc
from domain.usecases import manual_execution as ex
from domain.usecases import master_data as md
from domain.usecases import runs_and_units as prod
from domain.usecases import shifts as sh
from domain.usecases import tokens as tk
from domain.usecases.bus import Command, Handler

HANDLERS: dict[type[Command], Handler] = {
    md.UpsertLine: md.upsert_line,
    md.UpsertStationGroup: md.upsert_station_group,
    md.UpsertStation: md.upsert_station,
    md.UpsertOperation: md.upsert_operation,
    md.UpsertDataSpec: md.upsert_data_spec,
    md.UpsertRouting: md.upsert_routing,
    md.SetExecutionConfig: md.set_execution_config,
    md.CompileRouting: md.compile_routing,
    prod.ReceiveWorkOrder: prod.receive_work_order,
    prod.ReleaseWorkOrder: prod.release_work_order,
    prod.CreateRun: prod.create_run,
    prod.AuthorizeRun: prod.authorize_run,
    prod.RevokeRunAuthorization: prod.revoke_run_authorization,
    prod.CloseRun: prod.close_run,
    prod.CloseWorkOrder: prod.close_work_order,
    prod.RegisterUnits: prod.register_units,
    ex.TrackIn: ex.track_in,
    ex.TrackOut: ex.track_out,
    ca.LoadCarrier: ca.load_carrier,
    ca.UnloadCarrier: ca.unload_carrier,
    dv.RecordDeviceData: dv.record_device_data,
    co.RecordProductionCounts: co.record_production_counts,
    sh.SetShiftCalendar: sh.set_shift_calendar,
    lc.DisposeUnit: lc.dispose_unit,
    ho.HoldUnits: ho.hold_units,
    ho.ReleaseHold: ho.release_hold,
    tk.CreateToken: tk.create_token,
    tk.RevokeToken: tk.revoke_token,
    tk.RotateToken: tk.rotate_token,
}
