// Identity of batches and events on the EVENTS stream. A batch's Nats-Msg-Id is
// `<collectorId>-<sequence>`, so a batch published again (a retry after a timeout) is dropped by
// the stream's duplicate window; an event's id adds its row in the batch.

/** The Nats-Msg-Id of a batch. */
export function batchMsgId(collectorId: string, sequence: number): string {
  return `${collectorId}-${sequence}`;
}

/** The stable id of the event at `row` of a batch (alerts derive their own ids from it). */
export function eventId(collectorId: string, sequence: number, row: number): string {
  return `${collectorId}-${sequence}-${row}`;
}
