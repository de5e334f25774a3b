// A table of PostgreSQL's built-in types at their edges (NULLs, unicode, arrays, jsonb, bytea, numeric
// extremes, zoned times), for logical round trips.
#pragma once

namespace opendbs::testing {

inline constexpr const char* kTypesTable = R"sql(
CREATE TABLE kinds (
  id serial PRIMARY KEY, t text, n numeric, f float8, b bytea, j jsonb, a int[], ta text[], ts timestamptz,
  d date, iv interval, u uuid, ip inet, bo boolean, r int4range, x xml, p point, m money, bits bit varying(16))
)sql";

inline constexpr const char* kTypesRows = R"sql(
INSERT INTO kinds (t, n, f, b, j, a, ta, ts, d, iv, u, ip, bo, r, x, p, m, bits) VALUES
 ('plain', 0, 0, '\x00', '{}', '{}', '{}', 'epoch', '2000-01-01', '0', '00000000-0000-0000-0000-000000000000',
  '0.0.0.0', false, 'empty', '<a/>', '(0,0)', 0, B''),
 (E'tab\there\nnewline \\ back "quote" ''single''', 1e-1000, 'NaN', '\xdeadbeef00ff', '{"k": [1, "two", null, {"n": 1.5e300}]}',
  '{1,NULL,-2147483648}', '{"a b","",NULL,"ü"}', '2024-02-29 23:59:59.999999+05:45', 'infinity', '-178000000 years',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1/64', true, '[1,10)', '<x a="1">t</x>', '(1.5,-2)', -92233720368547758.08, B'1010'),
 ('日本語 emoji 🎉 Ωμέγα', 99999999999999999999999999999999999999.000000000000001, '-Infinity', NULL, 'null', NULL,
  NULL, '-infinity', '4713-01-01 BC', '1 day 2 hours', NULL, NULL, NULL, '(,)', NULL, NULL, NULL, NULL),
 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
)sql";

}  // namespace opendbs::testing
