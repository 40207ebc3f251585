"""GraphQL documents shared by the API tests."""

from __future__ import annotations

INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details }
  event { id sn snList stepNo stationCode result testResultId normalized dataValueCount
          tracks { stepNo result } }
  rejection { id attempts resolvedBy { id } } } }"""


TRACE = """query($sn: String!) { unit(sn: $sn) {
  sn status currentStepNo
  run { runNo status routeVersion { versionNo steps { stepNo stationType } } }
  workOrder { woNo }
  tracks { id stepNo attempt operationCode source inAt outAt result operatorId
    station { code stationType group { code } }
    unit { sn }
    dataValues { specName dataType valueNumber valueText valueBoolean valueJson valueUnit judge alarmed source collectedAt
      originalValue originalUnit lowLimit highLimit expected limitUnit }
    ingestEvent { id dedupeKey sourceSystem } }
  ingestEvents { id dedupeKey eventType occurredAt receivedAt stepNo result payload normalized
    dataValueCount dataValues { specName } tracks { id } } } }"""

BATCH = """mutation($i: [IngestEventInput!]!) { ingestEvents(inputs: $i) {
  status error { code details } event { id } rejection { id } } }"""

#: ingestEvent with a BATCH event's carrier track (tests/api/test_batch.py)
BATCH_INGEST = """mutation($i: IngestEventInput!) { ingestEvent(input: $i) {
  status error { code message details }
  event { id carrierCode snList result normalized
          carrierTrack { id stepNo result carrier { carrierNo } dataValues { specName valueNumber judge alarmed }
                         unitTracks { unit { sn } result } ingestEvent { id } }
          tracks { result carrierTrack { id } } }
  rejection { id dedupeKey } } }"""
