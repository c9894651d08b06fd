/**
 * Walks the TFRecord framing of a buffer, checking both CRCs. A record cut short at the end of
 * the data is normal (the writer may be mid-append): scanning stops there and reports it. A CRC
 * mismatch anywhere is corruption and throws a UserError naming the file and byte offset.
 */
import { UserError } from '../errors.ts';
import { maskedCrc32c } from './crc32c.ts';
import { RECORD_FOOTER_BYTES, RECORD_HEADER_BYTES } from './record-writer.ts';

export interface RawRecord {
  /** Byte offset of the record's length field in the file. */
  offset: number;
  payload: Buffer;
}

export interface RecordScan {
  records: RawRecord[];
  /** Offset just past the last complete record: where the next read should resume. */
  end: number;
  /** True when bytes after `end` hold the start of a record that is not complete yet. */
  partialTail: boolean;
}

/**
 * Reads every complete record of `data`. `baseOffset` is the file offset of `data[0]`, so
 * messages and offsets refer to the file even when scanning a tail read.
 */
export function scanRecords(data: Buffer, fileName: string, baseOffset = 0): RecordScan {
  const records: RawRecord[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < RECORD_HEADER_BYTES) break;
    const lengthBytes = data.subarray(at, at + 8);
    if (data.readUInt32LE(at + 8) !== maskedCrc32c(lengthBytes)) {
      throw corrupt(fileName, baseOffset + at, 'length CRC mismatch');
    }
    const length = data.readBigUInt64LE(at);
    const total = BigInt(RECORD_HEADER_BYTES + RECORD_FOOTER_BYTES) + length;
    if (BigInt(data.length - at) < total) break;
    const payloadStart = at + RECORD_HEADER_BYTES;
    const payload = data.subarray(payloadStart, payloadStart + Number(length));
    if (data.readUInt32LE(payloadStart + payload.length) !== maskedCrc32c(payload)) {
      throw corrupt(fileName, baseOffset + at, 'payload CRC mismatch');
    }
    records.push({ offset: baseOffset + at, payload });
    at = payloadStart + payload.length + RECORD_FOOTER_BYTES;
  }
  return { records, end: baseOffset + at, partialTail: at < data.length };
}

function corrupt(fileName: string, offset: number, what: string): UserError {
  return new UserError(
    `corrupt event file ${fileName}: ${what} in the record at byte offset ${offset}; ` +
      'move the file out of the run directory (TensorBoard stops reading it there too)',
  );
}
