/**
 * The pepper deploys docs/guide.md ("Upgrading tokens") tells apps to plan for: a first pepper
 * ends the sessions of an app that had none, and a rolling rotation in two steps ([old, new]
 * everywhere, then [new, old]) never refuses a token on an instance that is one step behind.
 */
import { describeEachDb, TestDatabase } from '../support/databases';
import { createPersistentDatabase, startDurinApp } from './support/durin-test-app';

const OLD = 'pepper-old-0123456789abcdef';
const NEW = 'pepper-new-fedcba9876543210';

describeEachDb('pepper deploys (%s)', (kind) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createPersistentDatabase(kind);
  });
  afterEach(() => db.drop());

  it('a first pepper on an app that had none: earlier tokens are no longer found', async () => {
    const plain = await startDurinApp(kind, {}, { db });
    const user = await plain.createUser();
    const before = await plain.service.generateHeaderToken(user);
    await plain.close({ keepDatabase: true });

    const peppered = await startDurinApp(kind, { pepper: NEW }, { db });
    expect(await peppered.service.verifyToken(before.accessToken)).toBeNull();
    const after = await peppered.service.generateHeaderToken(user);
    expect(await peppered.service.verifyToken(after.accessToken)).not.toBeNull();
    await peppered.close({ keepDatabase: true });
  });

  it('a rolling rotation in two steps: each step accepts what the other issues', async () => {
    const setup = await startDurinApp(kind, { pepper: OLD }, { db });
    const user = await setup.createUser();
    const issuedBefore = await setup.service.generateHeaderToken(user);
    await setup.close({ keepDatabase: true });

    // Step 1 rolls out while instances with [OLD] alone still run: both issue under OLD.
    const stepOne = await startDurinApp(kind, { pepper: [OLD, NEW] }, { db });
    const fromStepOne = await stepOne.service.generateHeaderToken(user);
    await stepOne.close({ keepDatabase: true });
    const notYetUpdated = await startDurinApp(kind, { pepper: OLD }, { db });
    expect(await notYetUpdated.service.verifyToken(fromStepOne.accessToken)).not.toBeNull();
    await notYetUpdated.close({ keepDatabase: true });

    // Step 2 rolls out while step-1 instances still run: they know NEW, so they accept its tokens.
    const stepTwo = await startDurinApp(kind, { pepper: [NEW, OLD] }, { db });
    const fromStepTwo = await stepTwo.service.generateHeaderToken(user);
    const neverUsed = await stepTwo.service.generateHeaderToken(user);
    expect(await stepTwo.service.verifyToken(issuedBefore.accessToken)).not.toBeNull();
    await stepTwo.close({ keepDatabase: true });
    const stillStepOne = await startDurinApp(kind, { pepper: [OLD, NEW] }, { db });
    expect(await stillStepOne.service.verifyToken(fromStepTwo.accessToken)).not.toBeNull();
    expect(await stillStepOne.service.verifyToken(fromStepOne.accessToken)).not.toBeNull();
    await stillStepOne.close({ keepDatabase: true });

    // Without step 1, an instance with [OLD] alone would refuse what step 2 issues. (A step-1
    // instance re-hashes a token it sees under its newest pepper, OLD, hence a token never used.)
    const skippedStepOne = await startDurinApp(kind, { pepper: OLD }, { db });
    expect(await skippedStepOne.service.verifyToken(neverUsed.accessToken)).toBeNull();
    await skippedStepOne.close({ keepDatabase: true });
  });
});
