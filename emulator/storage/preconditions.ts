import { conditionNotMet, invalidRequest } from './storage-error.ts';
import type { StoredObject, WriteCheck } from './object-store.ts';

export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

const names = ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch'] as const;

/** The generation preconditions a request's query carries (a resumable session keeps those of its start). */
export function readPreconditions(url: URL): Preconditions {
  const found: Preconditions = {};
  for (const name of names) {
    const text = url.searchParams.get(name);
    if (text === null || text === '') continue;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw invalidRequest(`Invalid value for ${name}: ${text}`);
    found[name] = value;
  }
  return found;
}

/**
 * Whether the conditions hold of the object there now (`undefined`: none). `ifGenerationMatch: 0` means "only if
 * there is no live object", which is what makes an upload create-only; `ifGenerationNotMatch: 0` "only if there is one".
 */
export function preconditionsHold(conditions: Preconditions, current: StoredObject | undefined): boolean {
  const generation = current?.generation ?? 0;
  if (conditions.ifGenerationMatch !== undefined && conditions.ifGenerationMatch !== generation) return false;
  if (conditions.ifGenerationNotMatch !== undefined && conditions.ifGenerationNotMatch === generation) return false;
  if (conditions.ifMetagenerationMatch !== undefined && conditions.ifMetagenerationMatch !== current?.metageneration) return false;
  if (conditions.ifMetagenerationNotMatch !== undefined && current && conditions.ifMetagenerationNotMatch === current.metageneration) return false;
  return true;
}

/** A write's check: 412 conditionNotMet when the conditions do not hold at the moment of the swap. */
export function checkWrite(conditions: Preconditions): WriteCheck {
  return (current) => {
    if (!preconditionsHold(conditions, current)) throw conditionNotMet();
  };
}
