/** Slots the table starts with; it doubles whenever it would be more than half full. */
const INITIAL_CAPACITY = 64;
/** An empty slot's key: correlation ids start at 1. */
const EMPTY = 0;

/**
 * The operations a stream waits on, by correlation id. Ids are handed out
 * in order, so those in flight are close together: each goes into the
 * slot its id names in a ring of at least twice as many slots as there
 * are entries, and the rare id whose slot is taken by one that has been
 * waiting a long time goes into a small overflow Map instead. Set and take
 * are one array access in the common case.
 *
 * Why not a Map for all of them: with a Map, a client keeping 1024
 * operations in flight promoted most of what each operation allocated to
 * the old generation, and its collector paused twice as long; with the
 * ring it spent about two fifths less CPU per operation
 * (docs/design-notes.md, "The client's pending operations are not a Map",
 * has the figures and the command). The likely cause is
 * the collector's nepotism: a Map replaces its backing table as entries
 * come and go, a replaced table still points at the entries it held, and
 * once such a table sits in the old generation a scavenge takes those
 * pointers as roots, so the operations they reach survive until the next
 * full collection. The ring's arrays are only replaced when they grow, and
 * are emptied as they are.
 */
export class PendingTable<T> {
  private keys = new Float64Array(INITIAL_CAPACITY);
  private values: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  private mask = INITIAL_CAPACITY - 1;
  /** Entries in the ring. */
  private inRing = 0;
  /** Entries whose slot was taken when they came. */
  private readonly overflow = new Map<number, T>();

  get size(): number {
    return this.inRing + this.overflow.size;
  }

  /** Adds `value` under `id` (a positive safe integer, not already in the table). */
  set(id: number, value: T): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.place(id, value);
  }

  /** Removes the entry under `id` and returns its value; undefined when there is none. */
  take(id: number): T | undefined {
    // ToInt32 keeps an id's low 32 bits, so the slot is right past 2^31 too.
    const i = id & this.mask;
    // An answer without an id reads 0, the key of an empty slot.
    if (this.keys[i] === id && id !== EMPTY) {
      const value = this.values[i];
      this.keys[i] = EMPTY;
      this.values[i] = undefined;
      this.inRing -= 1;
      return value;
    }
    if (this.overflow.size === 0) return undefined;
    const value = this.overflow.get(id);
    if (value !== undefined) this.overflow.delete(id);
    return value;
  }

  /** Removes every entry; returns their values. */
  drain(): T[] {
    return this.removeWhere(() => true);
  }

  /**
   * Removes the entries whose value matches `predicate` and returns their
   * values, in one walk. Removing from the ring moves nothing else (an
   * entry is in the slot its id names or in the overflow), so the walk
   * can remove as it goes.
   */
  removeWhere(predicate: (value: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] === EMPTY || !predicate(this.values[i] as T)) continue;
      out.push(this.values[i] as T);
      this.keys[i] = EMPTY;
      this.values[i] = undefined;
      this.inRing -= 1;
    }
    for (const [id, value] of this.overflow) {
      if (!predicate(value)) continue;
      out.push(value);
      this.overflow.delete(id);
    }
    return out;
  }

  private place(id: number, value: T): void {
    const i = id & this.mask;
    if (this.keys[i] === EMPTY) {
      this.keys[i] = id;
      this.values[i] = value;
      this.inRing += 1;
    } else {
      this.overflow.set(id, value);
    }
  }

  private grow(): void {
    const { keys, values } = this;
    const overflowed = [...this.overflow];
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Array<T | undefined>(keys.length * 2).fill(undefined);
    this.mask = this.keys.length - 1;
    this.inRing = 0;
    this.overflow.clear();
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== EMPTY) this.place(keys[i] as number, values[i] as T);
    }
    for (const [id, value] of overflowed) this.place(id, value);
    // The old array may sit in the old generation: left full, it would
    // keep every entry it held alive until the next full collection.
    values.fill(undefined);
  }
}
