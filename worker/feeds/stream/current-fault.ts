/**
 * The fault the upstream stream is in now, noted so that each distinct kind is logged once
 * (and its clearing once), not once per retry. (A scheduler's per-symbol faults are
 * `FaultLog`'s, in objects/scheduler/.) Pure: the caller logs what it is told to.
 */
export class CurrentFault<F extends { kind: string }> {
  private fault: F | undefined;

  get current(): F | undefined {
    return this.fault;
  }

  /** Notes `fault`; true when its kind differs from the one noted (log it). */
  note(fault: F): boolean {
    const changed = this.fault?.kind !== fault.kind;
    this.fault = fault;
    return changed;
  }

  /** The feed recovered: the fault it was in (log its clearing), if any. */
  clear(): F | undefined {
    const was = this.fault;
    this.fault = undefined;
    return was;
  }
}
