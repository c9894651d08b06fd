/**
 * Breaks what Prettier leaves over the line limit: string and template literals (split at a
 * space into a `+` concatenation, which Prettier then lays out) and comments on lines of their
 * own (re-wrapped at word boundaries). `npm run format` runs Prettier, this, then Prettier again,
 * so `max-len` can be fixed mechanically. Lines it cannot break (a long word, a URL, a trailing
 * comment) are listed on stderr for a hand fix; the exit status stays 0.
 *
 *   tsx scripts/wrap-long-lines.ts [--width 120] [files or folders...]   (default: src test scripts)
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const widthFlag = args.indexOf('--width');
const WIDTH = widthFlag >= 0 ? Number(args.splice(widthFlag, 2)[1]) : 120;
/** Room left at a split for the closing quote and ` +`. */
const SLACK = 4;
const roots = args.length > 0 ? args : ['src', 'test', 'scripts'];

function tsFiles(path: string): string[] {
  if (statSync(path).isFile()) return path.endsWith('.ts') ? [path] : [];
  return readdirSync(path).flatMap((name) => (name === 'node_modules' ? [] : tsFiles(join(path, name))));
}

interface Edit {
  at: number;
  insert: string;
}

/** Whether a literal here may become a parenthesised concatenation (not a type, module name or key). */
function isValuePosition(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isLiteralTypeNode(parent) || ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent)) return false;
  if (ts.isExternalModuleReference(parent) || ts.isImportTypeNode(parent) || ts.isTaggedTemplateExpression(parent)) {
    return false;
  }
  if ((ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent)) && parent.name === node) return false;
  if (ts.isEnumMember(parent) && parent.name === node) return false;
  if (ts.isExpressionStatement(parent) && ts.isSourceFile(parent.parent)) return false; // a directive
  return true;
}

/** Where to split text[from, to): after its last space that is not escaped, or -1. */
function afterLastSpace(text: string, from: number, to: number): number {
  for (let i = Math.min(to, text.length) - 1; i >= from; i--) {
    if (text[i] === ' ' && text[i - 1] !== '\\') return i + 1;
  }
  return -1;
}

/** Operators that bind no tighter than `+`, so `x OP 'a' + 'b'` still means `x OP ('a' + 'b')`. */
const LOOSE_OPERATORS = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.PlusToken,
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandToken,
  ts.SyntaxKind.BarBarToken,
  ts.SyntaxKind.QuestionQuestionToken,
  ts.SyntaxKind.CommaToken,
]);

/**
 * Whether `'a' + 'b'` in place of the literal needs parentheses. Concatenating strings is
 * associative, so a `+` neighbour needs none; a member access or a tighter operator does.
 */
function needsParentheses(node: ts.Node): boolean {
  const parent = node.parent;
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) return parent.expression === node;
  if (ts.isBinaryExpression(parent)) return !LOOSE_OPERATORS.has(parent.operatorToken.kind);
  if (ts.isConditionalExpression(parent)) return parent.condition === node;
  return !(
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent) ||
    ts.isParameter(parent) ||
    ts.isBindingElement(parent) ||
    ts.isReturnStatement(parent) ||
    ts.isThrowStatement(parent) ||
    ts.isArrayLiteralExpression(parent) ||
    ts.isArrowFunction(parent) ||
    ts.isTemplateSpan(parent) ||
    ts.isParenthesizedExpression(parent) ||
    ts.isSpreadElement(parent) ||
    ts.isCaseClause(parent) ||
    ts.isExpressionStatement(parent)
  );
}

/** Splits for every literal that crosses the limit on its own line; one split per literal per pass. */
function literalEdits(source: ts.SourceFile, text: string): Edit[] {
  const edits: Edit[] = [];
  const lineStarts = source.getLineStarts();
  const visit = (node: ts.Node): void => {
    // `end` is where the piece's literal text ends; in a template that is not the tail, a `${` follows.
    const pieces: { start: number; end: number; quote: string; beforeSubstitution: boolean }[] = [];
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const start = node.getStart(source);
      pieces.push({ start: start + 1, end: node.end - 1, quote: text[start]!, beforeSubstitution: false });
    } else if (ts.isTemplateExpression(node)) {
      // Literal text of the head and each span's tail: between `}` (or the backtick) and `${` (or the backtick).
      const parts = [node.head, ...node.templateSpans.map((span) => span.literal)];
      for (const part of parts) {
        const start = part.getStart(source) + 1;
        const end = part.end - (ts.isTemplateTail(part) ? 1 : 2);
        pieces.push({ start, end, quote: '`', beforeSubstitution: !ts.isTemplateTail(part) });
      }
    } else {
      ts.forEachChild(node, visit);
      return;
    }
    if (!isValuePosition(node)) return;
    const nodeStart = node.getStart(source);
    // The latest split point before the limit on a line that is too long, over all pieces.
    let best: { at: number; indent: string; quote: string } | undefined;
    for (const piece of pieces) {
      const { line } = source.getLineAndCharacterOfPosition(piece.start);
      const lineStart = lineStarts[line]!;
      const newline = text.indexOf('\n', lineStart);
      const lineEnd = newline === -1 ? text.length : newline;
      if (lineEnd - lineStart <= WIDTH || piece.end > lineEnd) continue;
      const limit = lineStart + WIDTH - SLACK;
      let at = afterLastSpace(text, piece.start, Math.min(piece.end, limit));
      // No space: split before the substitution, `a${x}` → `a` + `${x}`.
      if (at < 0 && piece.beforeSubstitution && piece.end < limit) at = piece.end;
      if (at <= nodeStart + 1 || (best && at <= best.at)) continue;
      best = { at, indent: /^\s*/.exec(text.slice(lineStart, lineEnd))![0], quote: piece.quote };
    }
    if (!best) return;
    edits.push({ at: best.at, insert: `${best.quote} +\n${best.indent}  ${best.quote}` });
    if (needsParentheses(node)) edits.push({ at: nodeStart, insert: '(' }, { at: node.end, insert: ')' });
  };
  visit(source);
  return edits;
}

/** Re-wraps comment lines (`// …` or ` * …` alone on their line) that are over the limit. */
function wrapCommentLine(line: string): string[] | undefined {
  const match = /^(\s*)(\/\/ |\* |\/\*\* )(.*)$/.exec(line);
  if (!match) return undefined;
  const [, indent, marker, body] = match as unknown as [string, string, string, string];
  const continuation = marker === '/** ' ? '* ' : marker;
  const out: string[] = [];
  let current = `${indent}${marker}`;
  let words = 0;
  for (const word of body.split(' ')) {
    if (words > 0 && current.length + 1 + word.length > WIDTH) {
      out.push(current);
      current = `${indent}${marker === '/** ' ? ' ' : ''}${continuation}${word}`;
      words = 1;
      continue;
    }
    current += words > 0 ? ` ${word}` : word;
    words += 1;
  }
  out.push(current);
  return out.length > 1 && out.every((l) => l.length <= WIDTH) ? out : undefined;
}

function fixFile(path: string): string[] {
  let text = readFileSync(path, 'utf8');
  const original = text;
  for (let pass = 0; pass < 20; pass++) {
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const edits = literalEdits(source, text).sort((a, b) => b.at - a.at);
    if (edits.length === 0) break;
    for (const edit of edits) text = text.slice(0, edit.at) + edit.insert + text.slice(edit.at);
  }
  const lines = text.split('\n').flatMap((line) => (line.length > WIDTH ? (wrapCommentLine(line) ?? [line]) : [line]));
  text = lines.join('\n');
  if (text !== original) writeFileSync(path, text);
  return lines.flatMap((line, i) => (line.length > WIDTH ? [`${path}:${i + 1}: ${line.length} characters`] : []));
}

const left = roots.flatMap(tsFiles).flatMap(fixFile);
for (const line of left) process.stderr.write(`still over ${WIDTH}: ${line}\n`);
