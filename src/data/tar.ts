/**
 * A small streaming tar reader: feed it the uncompressed bytes chunk by chunk (`push`), and it
 * hands over the complete contents of the entries you ask for, skipping the others without
 * keeping them. Enough of POSIX ustar, GNU long names and pax `path` records to read CIFAR-10
 * archives made by any common tar; nothing is written to disk.
 */
import { UserError } from '../errors.ts';

const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, without a leading `./`. */
  name: string;
  size: number;
  /** Byte offset of the entry's header in the uncompressed archive. */
  headerOffset: number;
}

type Mode = 'header' | 'data' | 'padding' | 'done';
/** What the data of the current entry is for. */
type DataUse = 'keep' | 'skip' | 'gnu-long-name' | 'pax';

export class TarReader {
  private mode: Mode = 'header';
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Bytes of the uncompressed archive consumed so far. */
  private position = 0;

  private entry: TarEntry | null = null;
  private use: DataUse = 'skip';
  private data: Uint8Array | null = null;
  private dataFill = 0;
  private remaining = 0;
  private padding = 0;
  /** A name announced by a GNU 'L' or pax 'x' entry for the entry that follows it. */
  private nextName: string | null = null;

  /**
   * @param archiveName shown in error messages
   * @param wants decides from an entry's header whether its data is kept
   * @param onFile receives each kept entry's complete data
   */
  constructor(
    private readonly archiveName: string,
    private readonly wants: (entry: TarEntry) => boolean,
    private readonly onFile: (entry: TarEntry, data: Uint8Array) => void,
  ) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.mode !== 'done') {
      const available = chunk.length - at;
      if (this.mode === 'header') {
        const take = Math.min(BLOCK - this.headerFill, available);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        this.position += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.startEntry(this.position - BLOCK);
        }
      } else if (this.mode === 'data') {
        const take = Math.min(this.remaining, available);
        if (this.data) this.data.set(chunk.subarray(at, at + take), this.dataFill);
        this.dataFill += take;
        this.remaining -= take;
        at += take;
        this.position += take;
        if (this.remaining === 0) this.finishEntry();
      } else {
        const take = Math.min(this.padding, available);
        this.padding -= take;
        at += take;
        this.position += take;
        if (this.padding === 0) this.mode = 'header';
      }
    }
  }

  /** Call once the input has ended; throws if it ended in the middle of an entry. */
  end(): void {
    if (this.mode === 'done' || (this.mode === 'header' && this.headerFill === 0)) return;
    const where = this.entry ? `inside entry ${this.entry.name}` : 'inside a header';
    throw new UserError(
      `${this.archiveName} ends ${where} (uncompressed byte ${this.position.toLocaleString('en-US')}): ` +
        `the archive is truncated; download it again`,
    );
  }

  private startEntry(headerOffset: number): void {
    const h = this.header;
    if (h.every((byte) => byte === 0)) {
      // The end-of-archive marker (two zero blocks); anything after it is ignored.
      this.mode = 'done';
      return;
    }
    if (readOctal(h, 148, 8) !== headerChecksum(h)) {
      throw new UserError(
        `${this.archiveName}: corrupt tar header at uncompressed byte ${headerOffset.toLocaleString('en-US')} ` +
          `(checksum mismatch); the archive is damaged: download it again`,
      );
    }
    const type = String.fromCharCode(h[156]);
    const size = readSize(h);
    let name = readString(h, 0, 100);
    if (readString(h, 257, 5) === 'ustar') {
      const prefix = readString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.nextName !== null) {
      name = this.nextName;
      this.nextName = null;
    }
    name = name.replace(/^(\.\/)+/, '');
    const entry: TarEntry = { name, size, headerOffset };
    this.entry = entry;

    if (type === 'L') this.use = 'gnu-long-name';
    else if (type === 'x') this.use = 'pax';
    else if ((type === '0' || type === '\0' || type === '7') && this.wants(entry)) this.use = 'keep';
    else this.use = 'skip';

    this.data = this.use === 'skip' ? null : new Uint8Array(size);
    this.dataFill = 0;
    this.remaining = size;
    if (size === 0) this.finishEntry();
    else this.mode = 'data';
  }

  private finishEntry(): void {
    const entry = this.entry as TarEntry;
    const data = this.data;
    if (data && this.use === 'keep') this.onFile(entry, data);
    else if (data && this.use === 'gnu-long-name') this.nextName = readString(data, 0, data.length);
    else if (data && this.use === 'pax') {
      const path = paxPath(data);
      if (path !== undefined) this.nextName = path;
    }
    this.data = null;
    this.entry = null;
    this.padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    this.mode = this.padding === 0 ? 'header' : 'padding';
  }
}

/** A NUL-terminated (or field-filling) ASCII/UTF-8 string. */
function readString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

function readOctal(bytes: Uint8Array, start: number, length: number): number {
  const text = readString(bytes, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The size field: octal, or GNU base-256 for files of 8 GiB and more (high bit set). */
function readSize(h: Uint8Array): number {
  if (h[124] & 0x80) {
    let size = h[124] & 0x7f;
    for (let i = 125; i < 136; i++) size = size * 256 + h[i];
    return size;
  }
  return readOctal(h, 124, 12);
}

/** Sum of the header's bytes with the checksum field counted as eight spaces. */
function headerChecksum(h: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += h[i];
  return sum;
}

/** The `path` of a pax extended header ("<length> path=<value>\n" records). */
function paxPath(data: Uint8Array): string | undefined {
  const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
  let path: string | undefined;
  for (const record of text.split('\n')) {
    const match = /^\d+ path=(.*)$/s.exec(record);
    if (match) path = match[1];
  }
  return path;
}
