/**
 * Orders plugins so each comes after the plugins it `requires`, and names
 * what is wrong when that is impossible: a dependency that is not there, or
 * a cycle (spelled out as `a → b → a`).
 */

interface DependencyNode {
  name: string;
  requires: readonly string[];
}

interface DependencyOrder {
  /** Every node, dependencies first; ties keep the input order. */
  order: string[];
  /** Nodes that cannot load, with the reason. Dependents of these are not listed: they fail when loaded. */
  failures: Map<string, string>;
}

/**
 * `whyUnavailable(name)` explains a required name that is not among `nodes`
 * (e.g. "is disabled in plugins.yaml"); by default it is "not installed".
 */
export function orderByDependencies(
  nodes: readonly DependencyNode[],
  whyUnavailable: (name: string) => string = () => 'is not installed',
): DependencyOrder {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const failures = new Map<string, string>();
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];

  for (const node of nodes) {
    const missing = node.requires.filter((dependency) => !byName.has(dependency));
    if (missing.length > 0) {
      failures.set(node.name, missing.map((dependency) => `requires "${dependency}", which ${whyUnavailable(dependency)}`).join('; '));
    }
  }

  // Iterative colouring would avoid deep recursion, but plugin graphs are tiny; recursion keeps the cycle path obvious.
  const visit = (name: string): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = stack.slice(stack.indexOf(name));
      const text = describeCycle(cycle);
      for (const member of cycle) if (!failures.has(member)) failures.set(member, `dependency cycle ${text}`);
      return;
    }
    const node = byName.get(name);
    if (!node) return;
    state.set(name, 'visiting');
    stack.push(name);
    for (const dependency of node.requires) visit(dependency);
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const node of nodes) visit(node.name);
  return { order, failures };
}

/** Rotates the cycle to start at its alphabetically first member, so the message does not depend on discovery order. */
function describeCycle(cycle: readonly string[]): string {
  let start = 0;
  cycle.forEach((name, index) => {
    if (name < (cycle[start] ?? name)) start = index;
  });
  const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
  return [...rotated, rotated[0]].join(' → ');
}
