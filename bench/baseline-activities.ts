/** The baseline workflow's only activity: does nothing, answers at once. */
export function createBaselineActivities() {
  return {
    async baselineStep(_i: number): Promise<number> {
      return 1;
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
