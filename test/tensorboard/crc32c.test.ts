import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32c, maskCrc, maskedCrc32c } from '../../src/tensorboard/crc32c.ts';
import { fixture } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';

/** Bit-at-a-time CRC-32C straight from the definition, to check the table-driven one. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('crc32c("123456789") is the Castagnoli check value 0xE3069283', { skip: needs('shared') }, () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.from(fixture.crc32c_check.input)), Number(fixture.crc32c_check.crc32c));
});

test('crc32c matches the RFC 3720 test vectors', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('slicing-by-8 agrees with the bitwise definition at every length and alignment', () => {
  const data = randomBytes(300);
  for (let start = 0; start < 9; start++) {
    for (let length = 0; length + start <= data.length; length += 7) {
      const slice = data.subarray(start, start + length);
      assert.equal(crc32c(slice), referenceCrc32c(slice), `start ${start} length ${length}`);
    }
  }
});

test('the mask rotates right by 15 bits and adds 0xA282EAD8', { skip: needs('shared') }, () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(1 << 15), (1 + 0xa282ead8) >>> 0);
  // First record of the fixture: the length 0x48 and its masked CRC 0x9d4892fe.
  const length = Buffer.from('4800000000000000', 'hex');
  assert.equal(maskedCrc32c(length), 0x9d4892fe);
});
