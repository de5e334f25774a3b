// The node's operation schema (GET /api/schema, unsigned): every action with its summary, support
// level and parameters (Name, Type, Required, Description, Enum, Minimum, Maximum). Fetched once.
let pending = null;

export function schema() {
  if (!pending) {
    pending = fetch('/api/schema', { cache: 'no-store' }).then((r) => {
      if (!r.ok) throw new Error(`GET /api/schema answered HTTP ${r.status}`);
      return r.json();
    }).catch((e) => {
      pending = null;
      throw e;
    });
  }
  return pending;
}

export async function operation(name) {
  return (await schema()).Operations.find((o) => o.Name === name) || null;
}

// The enumeration of one parameter of one action ([] if it has none).
export async function enumOf(action, parameter) {
  const op = await operation(action);
  const p = op && op.Parameters.find((x) => x.Name === parameter);
  return (p && p.Enum) || [];
}
