package org.sympasmime.rpc;

/**
 * The heap set aside for requests and answers in flight, in bytes. The reader reserves a
 * request's estimated cost before it buffers the request, and waits while the budget is spent;
 * an answer keeps its share until it is written. Counting bytes rather than requests is what
 * keeps two pipelined 47 MB messages from exhausting a heap that one of them fits in.
 */
public final class MemoryBudget {
  /**
   * Heap bytes a request costs per byte of its line, from reading the line to writing the
   * answer, measured for the costliest method (see docs/architecture.md#memory).
   */
  public static final int DEFAULT_COST_PER_BYTE = 8;

  /** Heap left out of the budget for the sidecar itself: classes' data, caches, buffers. */
  static final long RESERVE_BYTES = 24L << 20;

  private final long capacity;
  private final int costPerByte;
  private long used;

  /**
   * @param capacity heap bytes that requests and answers may hold at once
   * @param costPerByte heap bytes one byte of a request line is expected to cost
   */
  public MemoryBudget(long capacity, int costPerByte) {
    if (capacity < 1 || costPerByte < 1) {
      throw new IllegalArgumentException("capacity and cost must be positive");
    }
    this.capacity = capacity;
    this.costPerByte = costPerByte;
  }

  /**
   * The budget of this JVM: its maximum heap less a fixed reserve for the sidecar itself, but
   * never less than half the heap, so that a small heap still serves small requests.
   */
  public static MemoryBudget forHeap(long maxHeapBytes, int costPerByte) {
    long capacity = Math.max(maxHeapBytes / 2, maxHeapBytes - RESERVE_BYTES);
    return new MemoryBudget(Math.max(1, capacity), costPerByte);
  }

  public long capacity() {
    return capacity;
  }

  public int costPerByte() {
    return costPerByte;
  }

  /** The largest request line that can ever be admitted. */
  public long largestRequest() {
    return capacity / costPerByte;
  }

  /** What a request line of {@code lineBytes} is expected to cost. */
  long costOf(long lineBytes) {
    return lineBytes * costPerByte;
  }

  /** Waits until {@code bytes} fit next to what is in flight, then holds them. */
  synchronized void reserve(long bytes) throws InterruptedException {
    if (bytes > capacity) {
      throw new IllegalArgumentException("more than the whole budget: " + bytes);
    }
    while (used + bytes > capacity) {
      wait();
    }
    used += bytes;
  }

  /**
   * Holds {@code bytes} without waiting, even beyond the budget: for memory that is already
   * allocated (an answer larger than its request's estimate). Only new requests wait for it.
   */
  synchronized void reserveNow(long bytes) {
    used += bytes;
  }

  synchronized void release(long bytes) {
    used -= bytes;
    notifyAll();
  }

  public synchronized long inFlight() {
    return used;
  }
}
