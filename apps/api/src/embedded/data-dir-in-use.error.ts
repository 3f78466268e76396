/**
 * Another process owns the data folder: LevelDB lets one process at a time open it, so a second engine on the
 * same folder cannot start (dynalite would fail later with "Database is closed" on its first request).
 */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(
    readonly dataDir: string,
    readonly endpoint: string | undefined,
  ) {
    const where = endpoint ? ` (its engine answers at ${endpoint})` : '';
    const share = endpoint ? `, share its engine with DYNAMODB_ENDPOINT=${endpoint}` : '';
    super(`${dataDir} (KURA_DATA_DIR) is in use by another Kura, npm run replicas or npm run db:serve${where}: stop it${share}, or set another KURA_DATA_DIR`);
  }
}
