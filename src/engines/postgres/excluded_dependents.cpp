#include "engines/postgres/excluded_dependents.h"

#include <map>
#include <set>
#include <string_view>

#include <boost/json.hpp>

#include "core/log.h"

namespace opendbs::engines::postgres {
namespace {

// A text[] literal: every element double-quoted, with " and \ escaped.
std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    out += (out.size() > 1 ? ",\"" : "\"");
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string oid_array(const std::set<std::string>& oids) {
  std::string out = "{";
  for (const auto& o : oids) out += (out.size() > 1 ? "," : "") + o;
  return out + "}";
}

// The objects depending on relations $1 (excluded or left-out tables: normal dependencies only, as
// pg_dump leaves out what belongs to them), $2 (left-out views, materialized views and composite
// types: also what belongs to them, their indexes, rules, triggers) and functions $3 — on the
// relation or on its row type — named as pg_dump's TOC names them, with the relation that owns each
// ("owner") and, for functions, their oid ("proc"). The copies of a constraint that PostgreSQL makes
// for partitions (conparentid) have no entry of their own in pg_dump's text: their parent has.
constexpr const char* kDependentsSql = R"SQL(
WITH refs AS (
  SELECT k.refclassid, k.refobjid, r.strong, n.nspname || '.' || c.relname AS label
  FROM (SELECT o, false AS strong FROM unnest($1::oid[]) o UNION ALL SELECT o, true FROM unnest($2::oid[]) o) r
  JOIN pg_catalog.pg_class c ON c.oid = r.o JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (VALUES ('pg_catalog.pg_class'::regclass::oid, c.oid),
                             ('pg_catalog.pg_type'::regclass::oid, c.reltype)) k(refclassid, refobjid)
  UNION ALL
  SELECT 'pg_catalog.pg_proc'::regclass::oid, p.oid, true, n.nspname || '.' || p.proname || '()'
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = ANY($3::oid[])),
deps AS (
  SELECT d.classid, d.objid, string_agg(DISTINCT r.label, ', ') AS because
  FROM pg_catalog.pg_depend d JOIN refs r ON d.refclassid = r.refclassid AND d.refobjid = r.refobjid
  WHERE d.deptype = 'n' OR (r.strong AND d.deptype = 'a')
  GROUP BY d.classid, d.objid)
SELECT CASE co.contype WHEN 'f' THEN 'FK CONSTRAINT' WHEN 'c' THEN 'CHECK CONSTRAINT' ELSE 'CONSTRAINT' END AS type,
       n.nspname AS schema, c.relname || ' ' || co.conname AS name, c.oid AS owner, 0::oid AS proc, deps.because
FROM deps JOIN pg_catalog.pg_constraint co ON deps.classid = 'pg_catalog.pg_constraint'::regclass AND co.oid = deps.objid
JOIN pg_catalog.pg_class c ON c.oid = co.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE co.conparentid = 0
UNION ALL
SELECT CASE WHEN ru.rulename <> '_RETURN' THEN 'RULE' WHEN c.relkind = 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
       n.nspname, CASE WHEN ru.rulename = '_RETURN' THEN c.relname ELSE c.relname || ' ' || ru.rulename END, c.oid, 0,
       deps.because
FROM deps JOIN pg_catalog.pg_rewrite ru ON deps.classid = 'pg_catalog.pg_rewrite'::regclass AND ru.oid = deps.objid
JOIN pg_catalog.pg_class c ON c.oid = ru.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'TRIGGER', n.nspname, c.relname || ' ' || t.tgname, c.oid, 0, deps.because
FROM deps JOIN pg_catalog.pg_trigger t ON deps.classid = 'pg_catalog.pg_trigger'::regclass AND t.oid = deps.objid
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
UNION ALL
SELECT 'POLICY', n.nspname, c.relname || ' ' || p.polname, c.oid, 0, deps.because
FROM deps JOIN pg_catalog.pg_policy p ON deps.classid = 'pg_catalog.pg_policy'::regclass AND p.oid = deps.objid
JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'c' THEN 'TYPE' WHEN 'i' THEN 'INDEX'
                      WHEN 'I' THEN 'INDEX' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
       n.nspname, c.relname, coalesce(i.indrelid, c.oid), 0, deps.because
FROM deps JOIN pg_catalog.pg_class c ON deps.classid = 'pg_catalog.pg_class'::regclass AND c.oid = deps.objid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, n.nspname,
       p.proname || '(' || coalesce((SELECT string_agg(pg_catalog.format_type(a.t, NULL), ', ' ORDER BY a.k)
                                     FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY a(t, k)), '') || ')',
       0, p.oid, deps.because
FROM deps JOIN pg_catalog.pg_proc p ON deps.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = deps.objid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
UNION ALL
SELECT 'STATISTICS', n.nspname, s.stxname, s.stxrelid, 0, deps.because
FROM deps JOIN pg_catalog.pg_statistic_ext s ON deps.classid = 'pg_catalog.pg_statistic_ext'::regclass AND s.oid = deps.objid
JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
UNION ALL
SELECT 'DEFAULT', n.nspname, c.relname || ' ' || a.attname, c.oid, 0, deps.because
FROM deps JOIN pg_catalog.pg_attrdef ad ON deps.classid = 'pg_catalog.pg_attrdef'::regclass AND ad.oid = deps.objid
JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
JOIN pg_catalog.pg_class c ON c.oid = ad.adrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
)SQL";

struct Found {
  LeftOutObject object;
  std::string owner;  // the relation the object belongs to (itself for a relation), "0" for functions
};

// The closure: each round asks for the dependents of everything found so far, until nothing new.
core::Result<std::vector<Found>> closure(PgConnection& conn, std::set<std::string> tables) {
  std::set<std::string> relations, functions;
  std::map<std::tuple<std::string, std::string, std::string>, Found> found;
  for (bool grew = true; grew;) {
    grew = false;
    OPENDBS_ASSIGN(auto rows, conn.query_params(kDependentsSql,
                                                {oid_array(tables), oid_array(relations), oid_array(functions)}));
    for (const auto& row : rows.rows) {
      LeftOutObject o{row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[5].value_or("")};
      const std::string owner = row[3].value_or("0"), proc = row[4].value_or("0");
      if (!found.emplace(std::make_tuple(o.type, o.schema, o.name), Found{o, owner}).second) continue;
      grew = true;
      if (o.type == "TABLE") tables.insert(owner);
      else if (o.type == "VIEW" || o.type == "MATERIALIZED VIEW" || o.type == "TYPE") relations.insert(owner);
      else if (proc != "0") functions.insert(proc);
    }
  }
  std::vector<Found> out;
  for (auto& [key, f] : found) {
    // pg_dump leaves out what belongs to an excluded table; it keeps sequences (also those owned by one).
    const bool of_excluded = f.object.type != "TABLE" && tables.count(f.owner);
    if (!of_excluded && f.object.type != "SEQUENCE") out.push_back(std::move(f));
  }
  return out;
}

core::Result<std::set<std::string>> table_oids(PgConnection& conn, const std::vector<TableName>& excluded) {
  std::vector<std::string> schemas, names;
  for (const auto& [s, n] : excluded) {
    schemas.push_back(s);
    names.push_back(n);
  }
  OPENDBS_ASSIGN(auto oids, conn.query_params(
      "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " JOIN unnest($1::text[], $2::text[]) e(s, t) ON e.s = n.nspname AND e.t = c.relname",
      {array_literal(schemas), array_literal(names)}));
  std::set<std::string> tables;
  for (const auto& row : oids.rows) tables.insert(row[0].value_or("0"));
  return tables;
}

}  // namespace

core::Result<std::vector<LeftOutObject>> excluded_dependents(PgConnection& conn, const std::vector<TableName>& excluded) {
  if (excluded.empty()) return std::vector<LeftOutObject>{};
  OPENDBS_ASSIGN(auto tables, table_oids(conn, excluded));
  // Function signatures as pg_dump writes them: it runs with an empty search_path (types qualified).
  OPENDBS_ASSIGN(auto path, conn.query("SELECT current_setting('search_path') AS p"));
  OPENDBS_TRY(conn.query("SELECT pg_catalog.set_config('search_path', '', true)"));
  auto found = closure(conn, tables);
  OPENDBS_TRY(conn.query_params("SELECT pg_catalog.set_config('search_path', $1, true)", {path.value(0, "p").value_or("")}));
  OPENDBS_TRY(found);
  std::vector<LeftOutObject> out;
  for (auto& f : *found)
    if (!(f.object.type == "TABLE" && tables.count(f.owner))) out.push_back(std::move(f.object));
  return out;
}

core::Result<std::string> kept_sequences_condition(PgConnection& conn, const std::vector<TableName>& excluded) {
  if (excluded.empty()) return std::string("true");
  OPENDBS_ASSIGN(auto tables, table_oids(conn, excluded));
  OPENDBS_ASSIGN(auto rows, conn.query_params(
      "SELECT n.nspname, c.relname FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class c ON c.oid = d.objid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass"
      " AND d.deptype = 'i' AND c.relkind = 'S' AND d.refobjid = ANY($1::oid[])",
      {oid_array(tables)}));
  std::string skipped;
  for (const auto& row : rows.rows)
    skipped += (skipped.empty() ? "" : ", ") + ("(" + quote_literal(row[0].value_or("")) + ", " +
                                                quote_literal(row[1].value_or("")) + ")");
  return skipped.empty() ? std::string("true") : "(schemaname, sequencename) NOT IN (" + skipped + ")";
}

std::vector<TableName> left_out_tables(const std::vector<LeftOutObject>& objects) {
  std::vector<TableName> out;
  for (const auto& o : objects)
    if (o.type == "TABLE") out.emplace_back(o.schema, o.name);
  return out;
}

namespace {

// pg_dump writes names in its TOC comments with line breaks as spaces.
std::string toc_text(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::vector<std::string_view> lines_of(const std::string& script) {
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < script.size()) {
    size_t end = script.find('\n', at);
    end = end == std::string::npos ? script.size() : end + 1;
    lines.emplace_back(script.data() + at, end - at);
    at = end;
  }
  return lines;
}

std::string_view bare(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// The "Name: ...; Type: ...; Schema: ..." of a TOC header starting at line `i`, or "" for none.
// The script's trailer ("-- PostgreSQL database dump complete") also starts a block, returned as is.
std::string_view header_at(const std::vector<std::string_view>& lines, size_t i) {
  if (i + 2 >= lines.size() || bare(lines[i]) != "--" || bare(lines[i + 2]) != "--") return {};
  const auto text = bare(lines[i + 1]);
  if (text.starts_with("-- Name: ") || text == "-- PostgreSQL database dump complete") return text.substr(3);
  return {};
}

bool is_preamble_of_next(std::string_view line) {
  const auto b = bare(line);
  return b.empty() || b.starts_with("SET default_tablespace = ") || b.starts_with("SET default_table_access_method = ");
}

}  // namespace

std::string without_left_out(const std::string& script, const std::vector<LeftOutObject>& objects) {
  if (objects.empty()) return script;
  std::set<std::string> headers;
  for (const auto& o : objects)
    headers.insert("Name: " + toc_text(o.name) + "; Type: " + o.type + "; Schema: " + toc_text(o.schema) + "; Owner: ");
  const auto lines = lines_of(script);
  std::vector<bool> drop(lines.size(), false);
  bool dropped_previous = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto header = header_at(lines, i);
    if (header.empty() || header.starts_with("PostgreSQL")) continue;
    bool left_out = false;
    for (const auto& h : headers) left_out = left_out || header.starts_with(h);
    // A comment or security label of a dropped object follows it directly.
    const bool attached = header.find("; Type: COMMENT; ") != std::string_view::npos ||
                          header.find("; Type: SECURITY LABEL; ") != std::string_view::npos;
    left_out = left_out || (dropped_previous && attached);
    dropped_previous = left_out;
    if (!left_out) continue;
    size_t end = i + 3;
    while (end < lines.size() && header_at(lines, end).empty()) ++end;
    // The SETs the next entry needs (written just before its header, among blank lines) stay.
    size_t trailing = end;
    while (trailing > i + 3 && is_preamble_of_next(lines[trailing - 1])) --trailing;
    for (; trailing < end; ++trailing)
      if (!bare(lines[trailing]).empty()) end = trailing;
    for (size_t k = i; k < end; ++k) drop[k] = true;
  }
  std::string out;
  out.reserve(script.size());
  for (size_t i = 0; i < lines.size(); ++i)
    if (!drop[i]) out.append(lines[i]);
  return out;
}

boost::json::array left_out_json(const std::vector<LeftOutObject>& objects) {
  boost::json::array out;
  for (const auto& o : objects)
    out.push_back(boost::json::object{{"type", o.type}, {"schema", o.schema}, {"name", o.name}, {"because", o.because}});
  return out;
}

void log_left_out(const std::string& database, const std::vector<LeftOutObject>& objects) {
  if (objects.empty()) return;
  std::string names;
  for (const auto& o : objects)
    names += (names.empty() ? "" : "; ") + o.type + " " + o.schema + "." + o.name + " (needs " + o.because + ")";
  core::log_event(core::LogLevel::warn, "postgres_logical_left_out",
                  {{"database", database},
                   {"reason", "these objects need tables BackupObjects leave out (TableExcludes, TableIncludes); the set does not hold them"},
                   {"objects", names}});
}

boost::json::array without_left_out_matviews(const boost::json::array& matviews, const std::vector<LeftOutObject>& objects) {
  boost::json::array out;
  for (const auto& v : matviews) {
    bool left_out = false;
    for (const auto& o : objects)
      left_out = left_out || (o.type == "MATERIALIZED VIEW" && v.is_object() && v.as_object().contains("schema") &&
                              v.as_object().at("schema") == o.schema.c_str() && v.as_object().at("name") == o.name.c_str());
    if (!left_out) out.push_back(v);
  }
  return out;
}

}  // namespace opendbs::engines::postgres
