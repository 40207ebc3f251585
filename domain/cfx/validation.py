"""IPC-CFX's interlock (issue 21): a ValidateUnitsRequest answered by a ValidateUnitsResponse.

The request names units as the machine labels them: a board's own barcode, or a panel's barcode
with a position (`Units[].UnitIdentifier`, `PositionNumber`; with no units, its
`PrimaryIdentifier`). Each is resolved as ingest resolves a barcode (a unit's SN first, then a
panel's board at that position, or every board of the panel without one) and validated as
`validateUnits` validates (domain/usecases/validate.py): the refusal an event would get now.
The answer has one `ValidationResults` entry per unit asked (a panel without a position: one per
board), `Passed`, or `Failed` with the refusal code as its message and a stable `FailureCode`;
`PrimaryResult` is Passed only when every one passed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.cfx.units import AskedUnit, boards_named, named_units
from domain.errors import DomainError, ErrorCode
from domain.ports import ReadStore
from domain.usecases.validate import MAX_UNITS, validate_units

REQUEST = "CFX.InformationSystem.UnitValidation.ValidateUnitsRequest"
RESPONSE = "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"

#: FailureCode per refusal (CFX carries an integer; these never change meaning, new codes are
#: added at the end); any other refusal is 99
FAILURE_CODES: dict[ErrorCode, int] = {
    ErrorCode.UNIT_NOT_FOUND: 1,
    ErrorCode.UNIT_ALREADY_DONE: 2,
    ErrorCode.UNIT_OUT_FAILED: 3,
    ErrorCode.UNIT_ON_HOLD: 4,
    ErrorCode.UNIT_SCRAPPED: 5,
    ErrorCode.UNIT_X_OUT: 6,
    ErrorCode.UNIT_ALREADY_IN_STATION: 7,
    ErrorCode.STEP_MISMATCH: 8,
    ErrorCode.STATION_MISMATCH: 9,
    ErrorCode.STATION_NOT_FOUND: 10,
    ErrorCode.RUN_NOT_AUTHORIZED: 11,
    ErrorCode.INGEST_MAPPING_MISSING: 12,
    ErrorCode.RECIPE_MISMATCH: 13,
}
OTHER_FAILURE = 99


def asked_units(body: Any) -> list[AskedUnit]:
    """The units a request's body names, else its PrimaryIdentifier (VALIDATION_FAILED when
    it names none or is not one)."""
    asked = named_units(body, "ValidateUnitsRequest", required=False)
    primary = body.get("PrimaryIdentifier")
    if not asked and isinstance(primary, str) and primary.strip():
        asked.append(AskedUnit(primary.strip()))
    if not asked:
        raise _invalid("the request names no unit (Units, PrimaryIdentifier)")
    if len(asked) > MAX_UNITS:
        raise _invalid(f"a request names at most {MAX_UNITS} units")
    return asked


async def answer(
    store: ReadStore,
    request: dict[str, Any],
    station_code: str,
    *,
    now: datetime,
    unique_id: str,
    responder: str,
) -> dict[str, Any]:
    """The ValidateUnitsResponse envelope to `request` (already known to be a
    ValidateUnitsRequest from the station `station_code`). A request that names no unit is
    answered with Result Failed, not refused: the machine waits for an answer."""
    body = request.get("MessageBody")
    try:
        asked = asked_units(body)
    except DomainError as err:
        return _envelope(request, now, unique_id, responder, _request_failed(err), None, [])
    boards = await _boards(store, asked)
    sns = [sn for a in asked for sn in boards.get(a, [a.barcode])]
    answers = {v.sn: v for v in await validate_units(store, station_code, list(dict.fromkeys(sns)))}
    results = [
        _unit_result(a, sn, answers[sn].code) for a in asked for sn in boards.get(a, [a.barcode])
    ]
    passed = all(r["Result"] == "Passed" for r in results)
    primary_id = body.get("PrimaryIdentifier") if isinstance(body, dict) else None
    primary = {
        "UniqueIdentifier": primary_id if isinstance(primary_id, str) else asked[0].barcode,
        "PositionNumber": 0,
        "Result": "Passed" if passed else "Failed",
        "FailureCode": 0 if passed else _first_failure(results),
        "Message": "OK" if passed else "one or more units may not be processed",
    }
    ok = {"Result": "Success", "ResultCode": 0, "Message": None}
    return _envelope(request, now, unique_id, responder, ok, primary, results)


async def _boards(store: ReadStore, asked: list[AskedUnit]) -> dict[AskedUnit, list[str]]:
    """The board SNs a panel barcode stands for (one read, only for barcodes that are no
    unit's); a position the panel lacks, or a barcode that is neither, stays as asked
    (UNIT_NOT_FOUND)."""
    units = await store.units([a.barcode for a in asked])
    others = sorted({a.barcode for a in asked if a.barcode not in units})
    panels = await store.boards_of_panels(others) if others else {}
    return boards_named(asked, units, panels)


def _unit_result(a: AskedUnit, sn: str, code: ErrorCode | None) -> dict[str, Any]:
    return {
        "UniqueIdentifier": a.barcode,
        "PositionNumber": a.position or 0,
        "Result": "Passed" if code is None else "Failed",
        "FailureCode": 0 if code is None else FAILURE_CODES.get(code, OTHER_FAILURE),
        "Message": "OK" if code is None else f"{code.value} (unit {sn})",
    }


def _first_failure(results: list[dict[str, Any]]) -> int:
    return next(int(r["FailureCode"]) for r in results if r["Result"] == "Failed")


def _request_failed(err: DomainError) -> dict[str, Any]:
    return {"Result": "Failed", "ResultCode": 1, "Message": err.message}


def _envelope(
    request: dict[str, Any],
    now: datetime,
    unique_id: str,
    responder: str,
    result: dict[str, Any],
    primary: dict[str, Any] | None,
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "MessageName": RESPONSE,
        "Version": request.get("Version") or "2.1",
        "TimeStamp": now.isoformat(),
        "UniqueID": unique_id,
        "Source": responder,
        "Target": request.get("Source"),
        # a response names its request: the request's RequestID, else its UniqueID
        "RequestID": request.get("RequestID") or request.get("UniqueID"),
        "MessageBody": {
            "$type": f"{RESPONSE}, CFX",
            "Result": result,
            "PrimaryResult": primary,
            "ValidationResults": results,
        },
    }


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, f"ValidateUnitsRequest: {message}")
