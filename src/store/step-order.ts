/** Step names in the order a file keeps its steps (the registry's order of step jobs). */
export type StepOrder = readonly string[];

/** The steps sorted by `order`; names it does not list keep their given order, after the listed ones. */
export function orderSteps<S extends { readonly name: string }>(steps: readonly S[], order: StepOrder): S[] {
  const rank = (name: string) => {
    const i = order.indexOf(name);
    return i === -1 ? order.length : i;
  };
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank(a.s.name) - rank(b.s.name) || a.i - b.i)
    .map(({ s }) => s);
}
