import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const KEY_FILE = "secret.key";
const VERSION = "v1";

/**
 * The master key: CYBROS_SECRET_KEY when set, else a random key generated at first start into the data
 * folder (mode 0600). Losing it makes stored provider keys unreadable, so it is never regenerated.
 */
export function loadMasterKey(dataDir: string, configured?: string): Buffer {
  if (configured) return createHash("sha256").update(configured).digest();
  const file = path.join(dataDir, KEY_FILE);
  try {
    const fd = fs.openSync(file, "wx", 0o600);
    fs.writeSync(fd, randomBytes(32).toString("base64"));
    fs.closeSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // A key written by an older version, or copied in, may be readable by others.
    fs.chmodSync(file, 0o600);
  }
  const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}

export class SecretDecryptionError extends Error {
  constructor() {
    super("A stored secret could not be decrypted: the master key changed or the value is corrupt");
  }
}

/** AES-256-GCM with a fresh 96-bit IV per value; output is `v1:<iv>:<tag>:<ciphertext>` in base64url. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = Buffer.from(hkdfSync("sha256", masterKey, "", "cybros:secrets", 32));
  }

  /** A key for another purpose (cookie signing, tokens), independent of the encryption key. */
  static derive(masterKey: Buffer, purpose: string): Buffer {
    return Buffer.from(hkdfSync("sha256", masterKey, "", `cybros:${purpose}`, 32));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString("base64url"));
    return [VERSION, ...parts].join(":");
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(":");
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new SecretDecryptionError();
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretDecryptionError();
    }
  }
}
