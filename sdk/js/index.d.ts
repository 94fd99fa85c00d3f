// Types of the warden-sdk package, for TypeScript authors and editors.

/** A place in the caller's input, 1-based. */
export class Position {
  constructor(line: number, column: number);
  line: number;
  column: number;
}

/** The caller's input was rejected: fixing the input fixes the call. */
export class InputError extends Error {
  constructor(kind: string, message: string, position?: Position);
  kind: string;
  position?: Position;
}

/** The plugin failed for a reason of its own. */
export class GuestFailure extends Error {
  constructor(message: string);
}

/** One piece of personal data: `text.slice(start, end)` (string indices), with a confidence. */
export class Finding {
  constructor(entityType: string, start: number, end: number, score: number, explanation?: string);
  entityType: string;
  start: number;
  end: number;
  score: number;
  explanation?: string;
}

/** Per-call detection options. */
export class DetectOptions {
  constructor(options?: { entities?: string[]; minScore?: number; explain?: boolean; language?: string });
  entities: string[];
  minScore?: number;
  explain: boolean;
  language?: string;
  wants(entityType: string): boolean;
  keeps(score: number): boolean;
}

export interface DetectorInfo {
  name: string;
  version: string;
  entityTypes: string[];
}

/** Base class of a PII detector. */
export class Detector {
  describe(): DetectorInfo;
  detect(text: string, options: DetectOptions): Finding[];
}

export interface RenderOptions {
  strictUndefined?: boolean;
  engineFuel?: bigint;
  maxRecursion?: number;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  keepTrailingNewline?: boolean;
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TemplateInfo {
  variables: string[];
  paths: string[];
}

/** Base class of a template engine. */
export class TemplateEngine {
  render(template: string, context: Record<string, unknown>, options: RenderOptions): string;
  renderChat(messages: ChatMessage[], context: Record<string, unknown>, options: RenderOptions): ChatMessage[];
  inspect(template: string): TemplateInfo;
}

export interface SessionOptions {
  maxRecursion?: number;
  maxHeapBytes?: bigint;
  maxAllocations?: bigint;
  tools: string[];
}

export interface EvalOutput {
  stdout: string;
  repr?: string;
  json?: string;
}

/** One session's state. */
export class Session {
  constructor(options: SessionOptions);
  options: SessionOptions;
  eval(code: string): EvalOutput;
  snapshot(): Uint8Array;
  static restore(snapshot: Uint8Array, options: SessionOptions): Session;
}

/** Names the session class. */
export class CodeRunner {
  static session: typeof Session;
}

/** A host tool call failed. */
export class ToolError extends Error {
  constructor(kind: "unknown-tool" | "invalid-arguments" | "failed", message: string);
  kind: string;
}

export function setToolCaller(caller: ((name: string, argsJson: string) => string) | undefined): void;
export function callTool(name: string, args: unknown): unknown;

export const checksum: {
  digits(s: string): number[] | undefined;
  luhn(s: string): boolean;
  luhnDigits(d: number[]): boolean;
  ibanMod97(s: string): boolean;
  mod11(body: string, weights: number[], check: (remainder: number) => number | undefined): number | undefined;
  mod11Valid(s: string, weights: number[], check: (remainder: number) => number | undefined): boolean;
  verhoeff(s: string): boolean;
};

export function resolveOverlaps<T extends { start: number; end: number; score: number }>(items: T[]): T[];
export function isWholeWord(text: string, start: number, end: number): boolean;
export function byteOffsets(text: string, points: number[]): Map<number, number>;

export class ContextScorer {
  constructor(words: string[], window: number, boost: number);
  cue(text: string, start: number, end: number): string | undefined;
  score(text: string, start: number, end: number, base: number): number;
}
