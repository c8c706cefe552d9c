interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}
export const outdir: string;
export const BUDGET_GZIP: number;
export const KEEP_BUILDS: number;
export const HEADERS: string;
export function sizes(buf: Uint8Array): Sizes;
export function build(options?: { out?: string; previous?: string; banner?: string }): Promise<{
  default: Sizes & { files: string[]; each: Record<string, Sizes> };
  on_demand: Record<string, Sizes>;
  budget_gzip: number;
}>;
