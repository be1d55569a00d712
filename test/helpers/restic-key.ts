/**
 * Test repositories with a cheap key derivation. `restic init` calibrates scrypt to take about
 * 0.5 s, and every restic process of a test pays it again when it opens the repository. This
 * re-encrypts the repository's master key under the same password with scrypt N=1024 (restic's
 * own test suite lowers its parameters the same way), so each restic call costs milliseconds. The
 * repository stays real: restic itself reads it; only the speed of opening it changes. The
 * benchmark never uses this.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const P1305 = (1n << 130n) - 5n;

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

/** Poly1305 with r and s, as restic's Poly1305-AES uses it (s = AES-128 of the nonce). */
function poly1305(message: Uint8Array, r: Uint8Array, s: Uint8Array): Buffer {
  const clamped = littleEndian(r) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let accumulator = 0n;
  for (let offset = 0; offset < message.length; offset += 16) {
    const chunk = message.subarray(offset, offset + 16);
    accumulator = ((accumulator + littleEndian(chunk) + (1n << BigInt(8 * chunk.length))) * clamped) % P1305;
  }
  let tag = (accumulator + littleEndian(s)) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

function userKey(password: string, salt: Buffer, n: number, r: number, p: number): Buffer {
  return crypto.scryptSync(password, salt, 64, { N: n, r, p, maxmem: 256 * n * r + 64 * 1024 * 1024 });
}

/**
 * Make every later restic call on this local repository derive its key in about a millisecond,
 * optionally under a new password.
 */
export function cheapenRepositoryKey(repository: string, password: string, newPassword = password): void {
  const keys = path.join(repository, 'keys');
  const [name] = fs.readdirSync(keys);
  if (!name) throw new Error(`no key in ${keys}`);
  const key = JSON.parse(fs.readFileSync(path.join(keys, name), 'utf8'));
  const old = userKey(password, Buffer.from(key.salt, 'base64'), key.N, key.r, key.p);
  const data = Buffer.from(key.data, 'base64');
  const decipher = crypto.createDecipheriv('aes-256-ctr', old.subarray(0, 32), data.subarray(0, 16));
  const master = Buffer.concat([decipher.update(data.subarray(16, -16)), decipher.final()]);

  const salt = crypto.randomBytes(64);
  const fresh = userKey(newPassword, salt, 1024, 8, 1);
  const nonce = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', fresh.subarray(0, 32), nonce);
  const sealed = Buffer.concat([cipher.update(master), cipher.final()]);
  const aes = crypto.createCipheriv('aes-128-ecb', fresh.subarray(32, 48), null).setAutoPadding(false);
  const s = Buffer.concat([aes.update(nonce), aes.final()]);
  const mac = poly1305(sealed, fresh.subarray(48, 64), s);
  const text = JSON.stringify({
    ...key,
    N: 1024,
    r: 8,
    p: 1,
    salt: salt.toString('base64'),
    data: Buffer.concat([nonce, sealed, mac]).toString('base64'),
  });
  // restic names a key file by the SHA-256 of its content.
  const id = crypto.createHash('sha256').update(text).digest('hex');
  fs.writeFileSync(path.join(keys, id), text, { mode: 0o400 });
  fs.rmSync(path.join(keys, name));
}
