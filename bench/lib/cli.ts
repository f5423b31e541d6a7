/** A numeric setting from the environment, bounded so a bench can never run away. */
export function envNumber(name: string, fallback: number, max: number): number {
  return Math.min(Number(process.env[name] ?? fallback), max);
}

/** Runs a bench's `main` and exits: 0 when it finished, 1 (with the error) when it failed. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
