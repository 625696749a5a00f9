import postgres from "postgres";

/** The machine's shared PostgreSQL (trust auth). Tests create their own databases in it, never change it. */
export const SHARED_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A database created for one test file and dropped afterwards. */
export interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database, so parallel runs and other checkouts never share state.
 * Throws when the shared PostgreSQL is unreachable: tests that need it fail, they do not skip.
 */
export async function createFreshDatabase(prefix = "bookstore_test"): Promise<FreshDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(SHARED_POSTGRES_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database "${name}"`);
  } catch (error) {
    throw new Error(`cannot create a test database on ${SHARED_POSTGRES_URL}; is PostgreSQL running?`, { cause: error });
  } finally {
    await admin.end();
  }
  const url = new URL(SHARED_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = postgres(SHARED_POSTGRES_URL, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
