/**
 * The data folder cannot be made or opened (a file is at its path, or a file is on the way to it): said in one line
 * that names KURA_DATA_DIR, where the error of `mkdir` and its stack were printed before.
 */
export class DataDirUnusableError extends Error {
  override readonly name = 'DataDirUnusableError';

  constructor(
    readonly dataDir: string,
    readonly code: string,
  ) {
    super(`${dataDir} (KURA_DATA_DIR) cannot be the embedded engine's data folder (${code}): give the path of a folder this process may write, or set DYNAMODB_ENDPOINT`);
  }
}
