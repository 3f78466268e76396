/** What a Lambda cold start loads from the split bundle, and the chunks only a dynamic import loads. */
export function coldStartFiles(root: string): Promise<{
  files: string[];
  size: number;
  lazy: { file: string; inputs: string }[];
}>;

/** The compile cache shipped beside the entry; `tags` name the Node version, architecture and user of each. */
export function compileCacheFiles(root: string): Promise<{ files: string[]; size: number; tags: string[] }>;
