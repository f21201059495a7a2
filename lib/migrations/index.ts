import { CreateDurinTables1732406400000 } from './1732406400000-create-durin-tables';
import { AddDurinRefreshGracePayload1764000000000 } from './1764000000000-add-refresh-grace-payload';
import { AddDurinCleanupIndexes1764600000000 } from './1764600000000-add-cleanup-indexes';
import { AddDurinAbilities1765000000000 } from './1765000000000-add-abilities';

export {
  AddDurinAbilities1765000000000,
  AddDurinCleanupIndexes1764600000000,
  AddDurinRefreshGracePayload1764000000000,
  CreateDurinTables1732406400000,
};

/** The migrations of nestjs-durin, oldest first: add them to your data source's `migrations`. */
export const DURIN_MIGRATIONS = [
  CreateDurinTables1732406400000,
  AddDurinRefreshGracePayload1764000000000,
  AddDurinCleanupIndexes1764600000000,
  AddDurinAbilities1765000000000,
];
