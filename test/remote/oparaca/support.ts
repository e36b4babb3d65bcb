// Helpers of the Oparaca dialect suites: raw requests as an Oparaca client makes them.
import { expect } from 'vitest';
import type { Harness } from '../support.js';

export const enc = new TextEncoder();
export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The path of a class (and partition) in the Oparaca routes. */
export function clsPath(clsId: string, partition: string | number = 0): string {
  return `/api/class/${clsId}/${partition}`;
}

/** The path of an object, or of one of its methods. */
export function objPath(clsId: string, id: string, method?: string, partition: string | number = 0): string {
  return `${clsPath(clsId, partition)}/objects/${id}${method === undefined ? '' : `/invokes/${method}`}`;
}

/** POSTs a raw payload to a method. */
export function call(h: Harness, clsId: string, id: string, method: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return h.request(objPath(clsId, id, method), { method: 'POST', body: body as RequestInit['body'], headers });
}

/** PUTs ObjData JSON. */
export function putJson(h: Harness, clsId: string, id: string, objData: unknown): Promise<Response> {
  return h.request(objPath(clsId, id), { method: 'PUT', body: JSON.stringify(objData), headers: { 'content-type': 'application/json' } });
}

/** GETs an object as ObjData JSON. */
export async function getJson(h: Harness, clsId: string, id: string): Promise<unknown> {
  const reply = await h.request(objPath(clsId, id), { headers: { accept: 'application/json' } });
  expect(reply.status, await reply.clone().text()).toBe(200);
  return reply.json();
}

/** Expects a platform error reply: status, code, JSON content type. */
export async function expectOparacaError(reply: Response, status: number, code: string): Promise<string> {
  const text = await reply.text();
  expect({ status: reply.status, body: text }).toMatchObject({ status });
  expect(reply.headers.get('content-type')).toBe('application/json');
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  return body.error.message;
}

/** The entry values of ObjData JSON, decoded from base64 to their text. */
export function entryTexts(objData: unknown): Record<string, string> {
  const entries = (objData as { entries: Record<string, { data: string; type: number }> }).entries;
  return Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, Buffer.from(value.data, 'base64').toString('utf8')]));
}
