// Report files as the wasm core reads them: a piece at a time, during its call.
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Bytes per piece: the core's read buffer (`READ_BUFFER_BYTES` in src/wasm.rs). Every piece but
 * the last is full, since the core detects the format from the first (at least 64 KiB of it).
 */
export const REPORT_PIECE_BYTES = 256 * 1024;

/**
 * The buffer every piece is read into. The core copies a piece before it asks for the next, and
 * parses one report after the other, so one buffer serves them all: a buffer per report was
 * 1.3 GB of allocations for 5,000 small files.
 */
let pieces;

/**
 * One report file, read as the core parses it (its `ReportReader`): `read()` answers the next
 * piece as a view of the shared buffer, valid until the next `read()` of any report, empty at
 * the end, and throws what a failed open or read threw. Nothing is read before the core asks and
 * no file is held whole, so memory does not grow with the report and files over Node's 2 GiB
 * `readFile` limit can be read. Synchronous: the core calls it from inside its own call.
 */
export class ReportFile {
  constructor(file) {
    this.file = file;
    this.fd = undefined;
    this.ended = false;
  }

  read() {
    if (this.ended) {
      return new Uint8Array();
    }
    try {
      this.fd ??= openSync(this.file, 'r');
      pieces ??= Buffer.allocUnsafe(REPORT_PIECE_BYTES);
      let filled = 0;
      while (filled < pieces.length) {
        const n = readSync(this.fd, pieces, filled, pieces.length - filled, null);
        if (n === 0) {
          break;
        }
        filled += n;
      }
      if (filled < pieces.length) {
        this.close();
      }
      return pieces.subarray(0, filled);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Releases the file; the core may stop reading a report early (a syntax error). */
  close() {
    this.ended = true;
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
