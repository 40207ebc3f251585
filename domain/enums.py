"""The vocabularies of the domain (they match the enums of the public contract)."""

from __future__ import annotations

from enum import StrEnum


class StationType(StrEnum):
    MANUAL = "MANUAL"
    AUTO = "AUTO"
    BATCH = "BATCH"
    TEST = "TEST"


class IngestEventType(StrEnum):
    AUTO = "AUTO"
    BATCH = "BATCH"
    TEST = "TEST"
    #: a message that reports no result (arrival, departure, work started, materials
    #: installed): linked to the units it names, no track, no step (route infoMappings)
    INFO = "INFO"


class TrackSource(StrEnum):
    MANUAL = "MANUAL"
    AUTO = "AUTO"
    BATCH = "BATCH"
    TEST = "TEST"


class TrackResult(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    #: the tester or fixture failed, or the operator aborted: no verdict on the board (issue 16)
    ERROR = "ERROR"


class LateKeyFailAction(StrEnum):
    """What a KEY spec judged FAIL after its track passed does (execution config
    onLateKeyFail; DOMAIN.md §7, issue 16): hold the unit, or only flag the track."""

    HOLD = "HOLD"
    FLAG = "FLAG"


class TrackFlag(StrEnum):
    """A mark on a track (or carrier track) whose result stands but should be looked at."""

    #: a KEY spec was judged FAIL by device data after the track passed
    LATE_KEY_FAIL = "LATE_KEY_FAIL"


class Judge(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NA = "NA"


class UnitStatus(StrEnum):
    QUEUED = "QUEUED"
    IN_STATION = "IN_STATION"
    OUT_FAILED = "OUT_FAILED"
    DONE = "DONE"
    ON_HOLD = "ON_HOLD"
    SCRAPPED = "SCRAPPED"
    #: a board of a panel marked skipped (issue 19 item 3): never worked, terminal like SCRAPPED
    X_OUT = "X_OUT"


class RunStatus(StrEnum):
    PREP = "PREP"
    AUTHORIZED = "AUTHORIZED"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    COMPLETED = "COMPLETED"
    CLOSED_REWORK = "CLOSED_REWORK"
    SCRAPPED = "SCRAPPED"


#: Runs that can still receive events (DOMAIN.md §4 step 3).
UNFINISHED_RUN_STATUSES = frozenset(
    {RunStatus.PREP, RunStatus.AUTHORIZED, RunStatus.IN_PROGRESS, RunStatus.ON_HOLD}
)


class WorkOrderStatus(StrEnum):
    RECEIVED = "RECEIVED"
    RELEASED = "RELEASED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class DataType(StrEnum):
    NUMBER = "NUMBER"
    TEXT = "TEXT"
    BOOLEAN = "BOOLEAN"
    JSON = "JSON"


class CollectionMethod(StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class SpecItemType(StrEnum):
    KEY = "KEY"
    OBSERVATION = "OBSERVATION"


class TriggerType(StrEnum):
    EVENT = "EVENT"
    TIME = "TIME"
    EACH_UNIT = "EACH_UNIT"
    EACH_CARRIER = "EACH_CARRIER"


class AlarmAction(StrEnum):
    ALARM_ONLY = "ALARM_ONLY"
    HOLD = "HOLD"


class RouteVersionStatus(StrEnum):
    READY = "READY"
    INVALID = "INVALID"


class IngestStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"
    #: came before its units reached its step: kept until they do (re-driven) or its time is
    #: up (issue 20)
    PARKED = "PARKED"


class DeviceDataSource(StrEnum):
    AUTO = "AUTO"
    MANUAL = "MANUAL"


class DispositionAction(StrEnum):
    RETEST = "RETEST"
    REWORK = "REWORK"
    HOLD = "HOLD"
    RELEASE = "RELEASE"
    SCRAP = "SCRAP"
    #: recorded by a registration or an event that marked a panel's board X_OUT, not by hand
    X_OUT = "X_OUT"


class AuditOutcome(StrEnum):
    OK = "OK"
    REFUSED = "REFUSED"
    #: an ingest event sent again: nothing else was written
    DUPLICATE = "DUPLICATE"
    #: an ingest event that came before its units reached its step: kept until they do
    #: (issue 20); a re-drive audits its outcome as OK or REFUSED
    PARKED = "PARKED"
    #: the service failed the request (an internal error, the database unavailable): the
    #: client did nothing wrong, and nothing of the mutation was written
    ERROR = "ERROR"


class ReportGroupBy(StrEnum):
    """How productionReport groups its rows in time (DOMAIN.md §7; issue 16)."""

    DAY = "DAY"
    SHIFT = "SHIFT"
