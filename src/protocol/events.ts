/**
 * Change events as the HTTP API streams them (Server-Sent Events, one JSON
 * `data:` per event), shared by the server and the typed client.
 */

/** One committed version of one object. */
export interface WireChangeEvent {
  readonly kind: 'create' | 'update' | 'delete';
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;
  readonly version: number;
  readonly changed: readonly string[];
}

/** Versions of one object the stream will not deliver one by one (inclusive). */
export interface WireGapEvent {
  readonly kind: 'gap';
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;
  readonly from: number;
  readonly to: number;
}

/** What an event stream carries. */
export type WireWatchEvent = WireChangeEvent | WireGapEvent;

/**
 * The SSE event id of an event: the version on an object's stream, so that
 * `Last-Event-ID` is the `since` to resume from; `<objectId>:<version>` on a
 * class's stream. A gap's id is the last version it names.
 */
export function eventId(event: WireWatchEvent, perClass: boolean): string {
  const version = event.kind === 'gap' ? event.to : event.version;
  return perClass ? `${event.objectId}:${String(version)}` : String(version);
}
