/**
 * Seeded STOMP mutation fuzzer: valid client frames, mutated byte by byte (flips,
 * insertions of the characters that matter to the codec, deletions, truncation,
 * duplicated spans, broken content-length). The same seed gives the same cases.
 */
import { prng } from "./prng";

const SEEDS = [
  "SUBSCRIBE\nid:s1\ndestination:/topic/ticker.AAPL\nack:client\nreceipt:r1\n\n\0",
  "SUBSCRIBE\nid:s2\ndestination:/topic/viewers.MSFT\nx-throttle-ms:500\n\n\0",
  "SUBSCRIBE\nid:s3\ndestination:/topic/ticker.BTC-USD\nx-since:abcd1234:10\n\n\0",
  "UNSUBSCRIBE\nid:s1\n\n\0",
  'SEND\ndestination:/topic/ticker.AAPL\ncontent-type:application/json\ncontent-length:15\n\n{"price":12.5}\0',
  "ACK\nid:AAPL-1\n\n\0",
  "NACK\nid:AAPL-1\n\n\0",
  "BEGIN\ntransaction:t1\n\n\0",
  "DISCONNECT\nreceipt:bye\n\n\0",
  "SUBSCRIBE\nid:a\\cb\ndestination:/topic/ticker.^GSPC\nheart-beat:0,0\n\n\0",
];

/** Characters the decoder and session treat specially, and some that are just awkward. */
const SPECIAL = [
  "\0",
  "\n",
  "\r",
  ":",
  "\\",
  "\\x",
  "\\n",
  "\\c",
  "\u00ff",
  "\u2028",
  "\ud800",
  "\ufffd",
  "é",
  "0",
  "9999999999",
  " ",
  "\t",
];

export function mutate(frame: string, random: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let out = frame;
  const rounds = 1 + Math.floor(random() * 3);
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(random() * (out.length + 1));
    switch (Math.floor(random() * 7)) {
      case 0: // flip a character
        out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 256)) + out.slice(at + 1);
        break;
      case 1: // insert something the codec cares about
        out = out.slice(0, at) + pick(SPECIAL) + out.slice(at);
        break;
      case 2: // delete a span
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
        break;
      case 3: // truncate
        out = out.slice(0, at);
        break;
      case 4: // repeat a span
        out = out.slice(0, at) + out.slice(at, at + 16).repeat(1 + Math.floor(random() * 4)) + out.slice(at);
        break;
      case 5: // lie about the body length
        out = out.replace(/content-length:\d+/, `content-length:${pick(["0", "1", "99999", "-1", "1e3", ""])}`);
        break;
      default: // swap the command
        out = pick(["CONNECT", "STOMP", "MESSAGE", "send", "SUBSCRIBE ", "", "ERROR"]) + out.slice(out.indexOf("\n"));
    }
  }
  return out;
}

/** `count` mutated frames from `seed`. */
export function fuzzCases(seed: number, count: number): string[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => mutate(SEEDS[Math.floor(random() * SEEDS.length)]!, random));
}
