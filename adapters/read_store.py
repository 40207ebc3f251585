"""The query side: batch reads, each on its own short-lived connection.

`SqlReadStore` implements domain.ports.ReadStore by joining the reads of adapters/reads/, one
module per concept (master data, runs and units, trace, carriers, listings, parked events,
reports, access).
"""

from __future__ import annotations

from adapters.reads.access import AccessReads
from adapters.reads.carriers import CarrierReads
from adapters.reads.listings import ListingReads
from adapters.reads.master import MasterReads
from adapters.reads.parking import ParkingReads
from adapters.reads.reports import ReportReads
from adapters.reads.runs_and_units import RunAndUnitReads
from adapters.reads.trace import TraceReads


class SqlReadStore(
    MasterReads,
    RunAndUnitReads,
    TraceReads,
    CarrierReads,
    ListingReads,
    ParkingReads,
    ReportReads,
    AccessReads,
):
    """Every read of the query side over one engine (see adapters/reads/base.py)."""
