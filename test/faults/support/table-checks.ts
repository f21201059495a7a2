import type { DataSource } from 'typeorm';

/** What the token table says after a run, for I3 and for "no half-rotated family". */
export interface TableState {
  /** Live (not revoked) rows per family. */
  liveHeadsPerFamily: Record<string, number>;
  /** Rows marked rotated whose child row does not exist: a consume without its insert. */
  orphanedRotations: string[];
}

/** Reads {@link TableState} from the token table (PostgreSQL). */
export async function readTableState(dataSource: DataSource): Promise<TableState> {
  const heads: Array<{ family_id: string; live: string }> = await dataSource.query(
    'SELECT family_id, COUNT(*) AS live FROM auth_token WHERE revoked_at IS NULL GROUP BY family_id',
  );
  const orphans: Array<{ id: string }> = await dataSource.query(
    "SELECT p.id FROM auth_token p WHERE p.revoked_reason = 'rotated' " +
      'AND NOT EXISTS (SELECT 1 FROM auth_token c WHERE c.id = p.replaced_by_id)',
  );
  return {
    liveHeadsPerFamily: Object.fromEntries(heads.map((row) => [row.family_id, Number(row.live)])),
    orphanedRotations: orphans.map((row) => row.id),
  };
}
