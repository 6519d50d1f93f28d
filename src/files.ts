// Writing files so that a crash never leaves a half-written one under its real name.
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function writeTemporary(path: string, data: Buffer | string): string {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

function syncDirectory(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems cannot sync a directory; the rename is still atomic
  }
}

/** Replaces `path` with `data` atomically: written to a temporary name, synced, renamed over it. */
export function writeFileAtomic(path: string, data: Buffer | string): void {
  renameSync(writeTemporary(path, data), path);
  syncDirectory(path);
}

/** Creates `path` with `data` atomically, failing with EEXIST instead of replacing a file already there. */
export function createFileExclusive(path: string, data: Buffer | string): void {
  const temporary = writeTemporary(path, data);
  try {
    linkSync(temporary, path);
  } finally {
    unlinkSync(temporary);
  }
  syncDirectory(path);
}
