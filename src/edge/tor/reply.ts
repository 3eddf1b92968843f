// Tor control-port replies (control-spec §2.3, §4): written by hand because no maintained
// npm package speaks the control protocol with SAFECOOKIE and ADD_ONION; it is small text.
// These shapes stay inside src/edge/tor: callers see only what control.ts and onion.ts map.

/** One line of a reply: its status, its separator and its text (with any data block). */
export interface ReplyLine {
  readonly status: number;
  /** " " ends the reply, "-" continues it, "+" carries a data block. */
  readonly sep: " " | "-" | "+";
  readonly text: string;
  /** For "+" lines: the data block, dot-unescaped, one entry per line. */
  readonly data?: readonly string[];
}

/** A complete reply: its final status and every line. */
export interface Reply {
  readonly status: number;
  readonly lines: readonly ReplyLine[];
}

const LINE = /^(\d{3})([ +-])(.*)$/;

/**
 * Splits a byte stream into complete replies. Feed it chunks as they arrive; it calls
 * `onReply` once per complete reply and throws on a line that is not a reply line.
 */
export class ReplyReader {
  private buffer = "";
  private lines: ReplyLine[] = [];
  /** The "+" line whose data block is being read, with the block so far. */
  private block: { head: RegExpExecArray; data: string[] } | undefined;

  constructor(private readonly onReply: (reply: Reply) => void) {}

  /** Consumes a chunk of the stream (latin1/ASCII text). */
  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf("\n");
      if (end < 0) return;
      const line = this.buffer.slice(0, end).replace(/\r$/, "");
      this.buffer = this.buffer.slice(end + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.block) {
      if (line === ".") {
        const { head, data } = this.block;
        this.block = undefined;
        this.add({ status: Number(head[1]), sep: "+", text: head[3] as string, data });
      } else {
        // A data line that starts with "." was sent with the dot doubled.
        this.block.data.push(line.startsWith(".") ? line.slice(1) : line);
      }
      return;
    }
    const m = LINE.exec(line);
    if (!m) throw new Error("not a control-port reply line");
    if (m[2] === "+") {
      this.block = { head: m, data: [] };
      return;
    }
    this.add({ status: Number(m[1]), sep: m[2] as " " | "-", text: m[3] as string });
  }

  private add(line: ReplyLine): void {
    this.lines.push(line);
    if (line.sep !== " ") return;
    const reply = { status: line.status, lines: this.lines };
    this.lines = [];
    this.onReply(reply);
  }
}

/**
 * Parses `KEY=VALUE` pairs where a value is a bare word or a C-style quoted string; words
 * without "=" are returned under their position ("0", "1", …).
 */
export function parseKeywords(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  let position = 0;
  while (i < text.length) {
    while (text[i] === " ") i++;
    if (i >= text.length) break;
    const eq = /^([^ =]+)=/.exec(text.slice(i));
    const key = eq ? (eq[1] as string) : String(position++);
    if (eq) i += eq[0].length;
    const [value, next] = text[i] === '"' ? readQuoted(text, i) : readWord(text, i);
    out.set(key, value);
    i = next;
  }
  return out;
}

function readWord(text: string, from: number): [string, number] {
  const end = text.indexOf(" ", from);
  const stop = end < 0 ? text.length : end;
  return [text.slice(from, stop), stop];
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

function readQuoted(text: string, from: number): [string, number] {
  let out = "";
  let i = from + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === "\\" && i + 1 < text.length) {
      const c = text[i + 1] as string;
      out += ESCAPES[c] ?? c;
      i += 2;
    } else {
      out += text[i];
      i++;
    }
  }
  if (i >= text.length) throw new Error("unterminated quoted string in a control-port reply");
  return [out, i + 1];
}

/** A C-style quoted string for a command argument (passwords, paths). */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
