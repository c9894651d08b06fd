/**
 * Protobuf text format (what `projector_config.pbtxt` holds), printed and parsed with the
 * protobufjs reflection of the message type, so it follows the `.proto` file.
 *
 * Printing follows Python's `text_format.MessageToString`, which TensorBoard's own tools use:
 * fields in field-number order, two-space indent, proto3 defaults left out, strings C-escaped
 * (non-ASCII bytes as octal). Parsing accepts what `text_format.Parse` accepts for the types we
 * use (strings, integers, floats, bools, enums, nested messages, `#` comments, `[a, b]` lists,
 * `:` before `{` optional, `<…>` as braces); an unknown field is an error, as it is for
 * TensorBoard.
 */
import protobuf from 'protobufjs';
import { UserError } from '../errors.ts';

type PlainMessage = Record<string, unknown>;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Python's CEscape: \n \r \t \" \' \\ by name, other bytes outside printable ASCII as octal. */
function escapeString(text: string): string {
  let out = '';
  for (const byte of utf8Encoder.encode(text)) {
    if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x5c) out += '\\\\';
    else if (byte < 0x20 || byte >= 0x7f) out += '\\' + byte.toString(8).padStart(3, '0');
    else out += String.fromCharCode(byte);
  }
  return out;
}

function isDefault(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function formatScalar(field: protobuf.Field, value: unknown): string {
  if (field.resolvedType instanceof protobuf.Enum) {
    return typeof value === 'number' ? (field.resolvedType.valuesById[value] ?? String(value)) : String(value);
  }
  if (field.type === 'string') return `"${escapeString(String(value))}"`;
  if (field.type === 'bool') return value ? 'true' : 'false';
  return String(value);
}

/** Text format of `message` (a plain object with the proto's field names) of type `type`. */
export function formatTextProto(type: protobuf.Type, message: PlainMessage, indent = ''): string {
  let out = '';
  const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
  for (const field of fields) {
    field.resolve();
    const raw = message[field.name];
    if (raw === undefined || raw === null) continue;
    const values = field.repeated ? (raw as unknown[]) : [raw];
    for (const value of values) {
      if (field.resolvedType instanceof protobuf.Type) {
        out +=
          `${indent}${field.name} ` +
          `{\n${formatTextProto(field.resolvedType, value as PlainMessage, indent + '  ')}${indent}}\n`;
      } else if (field.repeated || field.partOf !== null || !isDefault(value)) {
        out += `${indent}${field.name}: ${formatScalar(field, value)}\n`;
      }
    }
  }
  return out;
}

// ---- parsing ----

type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded bytes of a string token. */
  bytes?: number[];
  line: number;
  column: number;
}

class Tokenizer {
  private at = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | undefined;

  constructor(
    private readonly source: string,
    private readonly fileName: string,
  ) {}

  error(token: Token, message: string): UserError {
    return new UserError(
      `${this.fileName}:${token.line}:${token.column}: ${message}; fix the file or delete it to start a new one`,
    );
  }

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const token = this.peek();
    this.peeked = undefined;
    return token;
  }

  private read(): Token {
    const s = this.source;
    for (;;) {
      while (this.at < s.length && /\s/.test(s[this.at]!)) {
        if (s[this.at] === '\n') {
          this.line++;
          this.lineStart = this.at + 1;
        }
        this.at++;
      }
      if (s[this.at] !== '#') break;
      while (this.at < s.length && s[this.at] !== '\n') this.at++;
    }
    const line = this.line;
    const column = this.at - this.lineStart + 1;
    if (this.at >= s.length) return { kind: 'end', text: 'end of file', line, column };
    const rest = s.slice(this.at);
    const c = s[this.at]!;
    if (c === '"' || c === "'") return this.readString(c, line, column);
    const number =
      /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?|inf(?:inity)?|nan)(?![\w.])/i.exec(rest);
    if (number && (/[\d.]/.test(c) || c === '-')) {
      this.at += number[0].length;
      return { kind: 'number', text: number[0], line, column };
    }
    const ident = /^[A-Za-z_][\w.]*/.exec(rest);
    if (ident) {
      this.at += ident[0].length;
      return { kind: 'ident', text: ident[0], line, column };
    }
    this.at++;
    return { kind: 'punct', text: c, line, column };
  }

  private readString(quote: string, line: number, column: number): Token {
    const s = this.source;
    const bytes: number[] = [];
    this.at++;
    for (;;) {
      if (this.at >= s.length || s[this.at] === '\n') {
        throw this.error({ kind: 'string', text: '', line, column }, 'string not closed on its line');
      }
      const c = s[this.at]!;
      if (c === quote) {
        this.at++;
        break;
      }
      if (c !== '\\') {
        const codePoint = s.codePointAt(this.at)!;
        bytes.push(...utf8Encoder.encode(String.fromCodePoint(codePoint)));
        this.at += codePoint > 0xffff ? 2 : 1;
        continue;
      }
      const e = s[this.at + 1] ?? '';
      const simple: Record<string, number> = {
        n: 10,
        r: 13,
        t: 9,
        '"': 34,
        "'": 39,
        '\\': 92,
        a: 7,
        b: 8,
        f: 12,
        v: 11,
        '?': 63,
      };
      let match: RegExpExecArray | null;
      if (e in simple) {
        bytes.push(simple[e]!);
        this.at += 2;
      } else if ((match = /^[0-7]{1,3}/.exec(s.slice(this.at + 1, this.at + 4)))) {
        bytes.push(parseInt(match[0], 8) & 0xff);
        this.at += 1 + match[0].length;
      } else if ((match = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(this.at + 1, this.at + 4)))) {
        bytes.push(parseInt(match[1]!, 16));
        this.at += 1 + match[0].length;
      } else if ((match = /^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(s.slice(this.at + 1, this.at + 10)))) {
        bytes.push(...utf8Encoder.encode(String.fromCodePoint(parseInt(match[1] ?? match[2]!, 16))));
        this.at += 1 + match[0].length;
      } else {
        const here = { kind: 'string' as const, text: '', line: this.line, column: this.at - this.lineStart + 1 };
        throw this.error(here, `unknown escape '\\${e}' in a string`);
      }
    }
    // Adjacent string literals are concatenated, as in C and in text format.
    const after = this.peekAdjacentString();
    if (after) bytes.push(...after);
    return { kind: 'string', text: utf8Decoder.decode(new Uint8Array(bytes)), bytes, line, column };
  }

  private peekAdjacentString(): number[] | undefined {
    const save = { at: this.at, line: this.line, lineStart: this.lineStart };
    const token = this.read();
    if (token.kind === 'string') return token.bytes;
    Object.assign(this, save);
    return undefined;
  }
}

function scalarFromToken(tokens: Tokenizer, field: protobuf.Field, token: Token): unknown {
  if (field.resolvedType instanceof protobuf.Enum) {
    if (token.kind === 'ident' && token.text in field.resolvedType.values) return token.text;
    if (token.kind === 'number' && /^\d+$/.test(token.text)) return Number(token.text);
    throw tokens.error(token, `'${token.text}' is not a value of ${field.resolvedType.name} for '${field.name}'`);
  }
  switch (field.type) {
    case 'string':
      if (token.kind !== 'string')
        throw tokens.error(token, `'${field.name}' needs a quoted string, got '${token.text}'`);
      return token.text;
    case 'bool':
      if (['true', 't', '1'].includes(token.text)) return true;
      if (['false', 'f', '0'].includes(token.text)) return false;
      throw tokens.error(token, `'${field.name}' needs true or false, got '${token.text}'`);
    case 'float':
    case 'double': {
      const lower = token.text.toLowerCase();
      if (/^-?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
      if (/^-?nan$/.test(lower)) return NaN;
      const value = token.kind === 'number' ? Number(lower.replace(/f$/, '')) : NaN;
      if (Number.isNaN(value)) throw tokens.error(token, `'${field.name}' needs a number, got '${token.text}'`);
      return value;
    }
    default: {
      const value = token.kind === 'number' ? Number(token.text) : NaN;
      const unsigned = field.type.startsWith('uint') || field.type.startsWith('fixed');
      if (!Number.isInteger(value) || (unsigned && value < 0)) {
        throw tokens.error(
          token,
          `'${field.name}' needs ${unsigned ? 'a non-negative' : 'an'} integer, got '${token.text}'`,
        );
      }
      return value;
    }
  }
}

function parseMessageBody(tokens: Tokenizer, type: protobuf.Type, close: string | undefined): PlainMessage {
  const message: PlainMessage = {};
  for (;;) {
    const token = tokens.next();
    if (close !== undefined && token.kind === 'punct' && token.text === close) return message;
    if (token.kind === 'end') {
      if (close === undefined) return message;
      throw tokens.error(token, `missing '${close}'`);
    }
    if (token.kind !== 'ident') throw tokens.error(token, `expected a field name, got '${token.text}'`);
    const field = type.fields[token.text];
    if (field === undefined) throw tokens.error(token, `${type.name} has no field '${token.text}'`);
    field.resolve();
    const isMessage = field.resolvedType instanceof protobuf.Type;
    let separator = tokens.peek();
    if (separator.kind === 'punct' && separator.text === ':') {
      tokens.next();
      separator = tokens.peek();
    } else if (!isMessage) {
      throw tokens.error(separator, `expected ':' after '${field.name}'`);
    }
    const readOne = (): unknown => {
      const start = tokens.next();
      if (isMessage) {
        if (start.kind !== 'punct' || (start.text !== '{' && start.text !== '<')) {
          throw tokens.error(start, `'${field.name}' needs a '{ … }' block`);
        }
        return parseMessageBody(tokens, field.resolvedType as protobuf.Type, start.text === '{' ? '}' : '>');
      }
      return scalarFromToken(tokens, field, start);
    };
    const values: unknown[] = [];
    if (separator.kind === 'punct' && separator.text === '[') {
      tokens.next();
      if (!(tokens.peek().kind === 'punct' && tokens.peek().text === ']')) {
        for (;;) {
          values.push(readOne());
          const after = tokens.next();
          if (after.kind === 'punct' && after.text === ']') break;
          if (after.kind !== 'punct' || after.text !== ',')
            throw tokens.error(after, `expected ',' or ']' in the list of '${field.name}'`);
        }
      } else {
        tokens.next();
      }
      if (!field.repeated) throw tokens.error(token, `'${field.name}' is not repeated and cannot take a list`);
    } else {
      values.push(readOne());
    }
    if (field.repeated) {
      ((message[field.name] ??= []) as unknown[]).push(...values);
    } else {
      if (field.name in message) throw tokens.error(token, `'${field.name}' appears twice but is not repeated`);
      message[field.name] = values[0];
    }
    const trailing = tokens.peek();
    if (trailing.kind === 'punct' && (trailing.text === ',' || trailing.text === ';')) tokens.next();
  }
}

/** Parses text format into a plain object with the proto's field names. */
export function parseTextProto(type: protobuf.Type, source: string, fileName = '<text proto>'): PlainMessage {
  return parseMessageBody(new Tokenizer(source, fileName), type, undefined);
}
