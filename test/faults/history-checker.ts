/**
 * An offline checker for operation histories of the token store (SECURITY-CHECKLIST part B,
 * "what nothing lost means"): the load generators record every operation as (client, op, token,
 * t_start, t_end, status) and this function looks for violations of the invariants I1-I7
 * afterwards, Jepsen-style, scaled down.
 *
 * Tokens are named by labels the test chooses (the SHA-256 of the raw access token, say); a login
 * starts a family named after its first token, and each refresh adds its new token to the family
 * of the token it presented. Times are from one monotonic clock (`performance.now()`), so "A
 * finished before B started" is `a.tEnd < b.tStart`, and overlapping operations are concurrent:
 * either order is allowed for them.
 */

export type OpKind = 'login' | 'auth' | 'refresh' | 'logout' | 'logout_all' | 'list';

export interface HistoryOp {
  client: string;
  op: OpKind;
  /**
   * The token presented (its label): the access token for auth/logout/logout_all/list, the pair
   * whose refresh token was presented for refresh; `null` for a login.
   */
  token: string | null;
  /** The family of the presented token, if the client knows it (else it is looked up). */
  family?: string | null;
  user: string;
  tStart: number;
  tEnd: number;
  /** The HTTP status; 0 when no response came (connection reset, process killed). */
  status: number;
  /** For a 503: whether it carried `Retry-After`. */
  retryAfter?: boolean;
  /** login/refresh with 200: the label of the pair handed out. */
  issued?: string;
  /** list with 200: the labels of the sessions shown as active. */
  listed?: string[];
  /** What the test knows about the presented token when it sent it. */
  presented?: 'live' | 'revoked' | 'unknown';
  /** The app's clock (`DURIN_CLOCK`) when the request started, for I2. */
  at?: number;
}

export type Invariant = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7';

export interface Violation {
  invariant: Invariant;
  message: string;
  op?: HistoryOp;
}

export interface CheckOptions {
  /** `absoluteExpiresAt` per family label (app clock ms); `null`: none. */
  absoluteExpiry?: Readonly<Record<string, number | null>>;
  /** When the database was unreachable (same clock as the history). */
  outages?: ReadonlyArray<{ from: number; to: number }>;
  /** A token cache may answer 200 for a live token during an outage (I6's one exception). */
  cachedPositives?: boolean;
  /** Live (not revoked) rows per database family, read after the run. */
  liveHeadsPerFamily?: Readonly<Record<string, number>>;
  /** The allowed staleness S after a revocation, in ms (default 0: same node). */
  stalenessMs?: number;
}

/** Something that ended a token: a logout, a logout-all, a rotation or a reuse detection. */
interface Revocation {
  op: HistoryOp;
  /** The call returned success: it committed before `tEnd`. Otherwise it may have committed. */
  certain: boolean;
  covers(token: string): boolean;
  invariant: 'I1' | 'I5';
}

const OK = (status: number) => status >= 200 && status < 300;
const UNKNOWN_OUTCOME = (status: number) => status === 0 || status >= 500;

/**
 * Returns every violation found, empty for a clean history.
 *
 * @example
 * expect(checkHistory(history, { liveHeadsPerFamily })).toEqual([]);
 */
export function checkHistory(
  history: readonly HistoryOp[],
  options: CheckOptions = {},
): Violation[] {
  const ops = [...history].sort((a, b) => a.tStart - b.tStart);
  const violations: Violation[] = [];
  const staleness = options.stalenessMs ?? 0;

  // Families: a login's token names its family; a refresh's token joins the presenter's.
  const familyOf = new Map<string, string>();
  const loginOf = new Map<string, HistoryOp>();
  const userOfFamily = new Map<string, string>();
  for (const op of ops) {
    if (op.token !== null && op.family) familyOf.set(op.token, op.family);
  }
  for (const op of [...ops].sort((a, b) => a.tEnd - b.tEnd)) {
    if (op.op === 'login' && op.status === 200 && op.issued) {
      familyOf.set(op.issued, op.issued);
      loginOf.set(op.issued, op);
    }
    if (op.op === 'refresh' && op.status === 200 && op.issued && op.token !== null) {
      const family = op.family ?? familyOf.get(op.token) ?? op.token;
      familyOf.set(op.issued, family);
    }
  }
  const family = (token: string) => familyOf.get(token) ?? token;
  for (const op of ops) {
    if (op.token !== null) userOfFamily.set(family(op.token), op.user);
    if (op.issued) userOfFamily.set(family(op.issued), op.user);
  }

  // Everything that ended tokens, certainly or possibly.
  const revocations: Revocation[] = [];
  const rotatedBy = new Map<string, HistoryOp[]>();
  for (const op of ops) {
    if (op.token === null) continue;
    const fam = family(op.token);
    if (op.op === 'logout' && (OK(op.status) || UNKNOWN_OUTCOME(op.status))) {
      revocations.push({
        op,
        certain: OK(op.status),
        covers: (token) => family(token) === fam,
        invariant: 'I1',
      });
    }
    if (op.op === 'logout_all' && (OK(op.status) || UNKNOWN_OUTCOME(op.status))) {
      revocations.push({
        op,
        certain: OK(op.status),
        covers: (token) => {
          const target = family(token);
          if (userOfFamily.get(target) !== op.user) return false;
          // A login that started after the logout-all returned is not affected by it; one that
          // overlapped it may go either way (covered, but only possibly).
          const login = loginOf.get(target);
          return login === undefined || login.tStart < op.tEnd;
        },
        invariant: 'I5',
      });
    }
    if (op.op === 'refresh' && (op.status === 200 || UNKNOWN_OUTCOME(op.status))) {
      const token = op.token;
      revocations.push({
        op,
        certain: op.status === 200,
        covers: (t) => t === token,
        invariant: 'I1',
      });
      if (op.status === 200) rotatedBy.set(token, [...(rotatedBy.get(token) ?? []), op]);
    }
  }
  // A refresh token presented again after its rotation was refused: reuse detection may have
  // revoked the family (it must, outside the grace window).
  for (const op of ops) {
    if (op.op !== 'refresh' || op.token === null || op.status !== 401) continue;
    const token = op.token;
    const earlier = revocations.some(
      (r) => r.op.op === 'refresh' && r.covers(token) && r.op.tStart < op.tEnd && r.op !== op,
    );
    if (earlier) {
      const fam = family(token);
      revocations.push({
        op,
        certain: false,
        covers: (t) => family(t) === fam,
        invariant: 'I1',
      });
    }
  }
  // Family membership of logout-all's affected set needs certainty about the login's timing.
  const certainlyCovers = (r: Revocation, token: string): boolean => {
    if (!r.certain || !r.covers(token)) return false;
    if (r.op.op === 'logout_all') {
      const login = loginOf.get(family(token));
      return login === undefined || login.tEnd < r.op.tStart;
    }
    return true;
  };

  for (const op of ops) {
    // I6: typed failure only.
    if (op.status >= 500 && op.status !== 503) {
      violations.push({ invariant: 'I6', message: `status ${op.status}`, op });
    }
    if (op.status === 503 && op.retryAfter === false) {
      violations.push({ invariant: 'I6', message: '503 without Retry-After', op });
    }
    const inOutage = (options.outages ?? []).some((o) => op.tStart >= o.from && op.tEnd <= o.to);
    if (inOutage && op.presented !== undefined && op.op !== 'login') {
      const cachedOk =
        options.cachedPositives === true && op.presented === 'live' && op.status === 200;
      if (op.status !== 503 && op.status !== 0 && !cachedOk) {
        violations.push({
          invariant: 'I6',
          message: `${op.op} of a ${op.presented} token answered ${op.status} while the database was down`,
          op,
        });
      }
    }
    if (op.token === null) continue;
    const token = op.token;

    // I1/I5: nothing authenticates after a completed revocation that covers it.
    if (op.status === 200) {
      for (const r of revocations) {
        if (r.op === op || !certainlyCovers(r, token) || !(r.op.tEnd + staleness < op.tStart)) {
          continue;
        }
        // A refresh of an already rotated token may return the same child (grace window).
        const graceSibling =
          r.op.op === 'refresh' && op.op === 'refresh' && r.op.issued === op.issued;
        if (!graceSibling) {
          violations.push({
            invariant: r.invariant,
            message: `${op.op} with ${token} succeeded after ${r.op.op} (${r.op.client}) ended it`,
            op,
          });
          break;
        }
      }
    }

    // I2: nothing is accepted at or after the family's absolute expiry.
    const absolute = options.absoluteExpiry?.[family(token)];
    if (op.status === 200 && op.at !== undefined && absolute != null && op.at >= absolute) {
      violations.push({ invariant: 'I2', message: `${op.op} accepted past absoluteExpiresAt`, op });
    }

    // I4: a token handed out with a 200 keeps working until something on record ended it.
    const refused = op.status === 401 && (op.op === 'auth' || op.op === 'refresh');
    if (refused && op.presented !== 'revoked' && op.presented !== 'unknown') {
      const issuedBy = ops.find((o) => o.issued === token && OK(o.status));
      const explained = revocations.some(
        (r) => r.op !== op && r.covers(token) && r.op.tStart < op.tEnd,
      );
      if (issuedBy !== undefined && issuedBy.tEnd < op.tStart && !explained) {
        violations.push({
          invariant: 'I4',
          message: `${op.op} with ${token} (issued by ${issuedBy.op}) refused, nothing ended it`,
          op,
        });
      }
    }

    // I7: the session list never shows a session that was ended before the list was asked for.
    if (op.op === 'list' && op.status === 200) {
      for (const listed of op.listed ?? []) {
        const ended = revocations.find(
          (r) => certainlyCovers(r, listed) && r.op.tEnd + staleness < op.tStart,
        );
        if (ended) {
          violations.push({
            invariant: 'I7',
            message: `${listed} listed as active after ${ended.op.op} ended it`,
            op,
          });
        }
      }
    }
  }

  // I3: one parent, one child (grace siblings get the same one); one live head per family.
  for (const [token, rotations] of rotatedBy) {
    const children = new Set(rotations.map((r) => r.issued));
    if (children.size > 1) {
      violations.push({
        invariant: 'I3',
        message: `${token} was rotated into ${children.size} different pairs`,
        op: rotations[1],
      });
    }
  }
  for (const [fam, live] of Object.entries(options.liveHeadsPerFamily ?? {})) {
    if (live > 1) {
      violations.push({ invariant: 'I3', message: `family ${fam} has ${live} live heads` });
    }
  }
  return violations;
}
