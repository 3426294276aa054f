package io.sluice.rules.table;

/**
 * Publishes immutable tables to readers with one volatile reference: readers call {@link #get}
 * once per burst and see the old table or the new one, never a mix; the writer never blocks them.
 *
 * @param <T> the table type
 */
public final class TableSlot<T> {
    private volatile T current;

    /** Creates the slot holding {@code initial}. */
    public TableSlot(T initial) { this.current = initial; }

    /** The current table. */
    public T get() { return current; }

    /** Replaces the table (single writer). */
    public void publish(T next) { current = next; }
}
