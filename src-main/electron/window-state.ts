/** Remembers the console window's size, position and maximised state in the data dir. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config/store';
import type { Bounds } from './adapter';

const State = z.object({
  bounds: z.object({ x: z.number().int().optional(), y: z.number().int().optional(), width: z.number().int().min(400).max(10000), height: z.number().int().min(300).max(10000) }),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof State>;

export const DEFAULT_WINDOW_STATE: WindowState = { bounds: { width: 1280, height: 820 }, maximized: false };

export function loadWindowState(dataDir: string): WindowState {
  const file = join(dataDir, 'window-state.json');
  if (!existsSync(file)) return DEFAULT_WINDOW_STATE;
  try {
    const r = State.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : DEFAULT_WINDOW_STATE;
  } catch {
    return DEFAULT_WINDOW_STATE;
  }
}

export function saveWindowState(dataDir: string, bounds: Bounds, maximized: boolean): void {
  const r = State.safeParse({ bounds: { ...bounds, x: bounds.x === undefined ? undefined : Math.round(bounds.x), y: bounds.y === undefined ? undefined : Math.round(bounds.y) }, maximized });
  if (r.success) writeFileAtomic(join(dataDir, 'window-state.json'), JSON.stringify(r.data, null, 2) + '\n');
}
