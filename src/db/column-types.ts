import type { ColumnType } from 'kysely';

/** Whether an insert may leave the column out, for its default (`now()`, `0`). */
type Defaulted = 'default' | 'no default';
type OnInsert<T, D extends Defaulted> = D extends 'default' ? T | undefined : T;

/** A `timestamptz` column: read as a Date, written as a Date or an ISO string. */
export type Timestamp<D extends Defaulted = 'default'> = ColumnType<Date, OnInsert<Date | string, D>, Date | string>;

/** A `jsonb` column: read parsed, written as JSON text. */
export type Json<T> = ColumnType<T, string, string>;

/** A Postgres `numeric`: read as a string, so no precision is lost on the way. */
export type Numeric<D extends Defaulted = 'default'> = ColumnType<string, OnInsert<number | string, D>, number | string>;
