#include "engines/postgres/create_database.h"

#include "core/log.h"
#include "engines/postgres/database_properties.h"

namespace opendbs::engines::postgres {
namespace {

// The default collation's provider as CREATE DATABASE clauses for a server of `version`: "" for libc
// (and sets without the record). `not_kept` says what of it the destination cannot take.
std::string provider_clauses(const boost::json::object& db, int version, std::string& not_kept) {
  const std::string provider = text_of(db, "locale_provider"), locale = text_of(db, "locale"),
                    rules = text_of(db, "icu_rules");
  const std::string server = "PostgreSQL " + std::to_string(version / 10000);
  if (provider == "icu") {
    if (version < 150000) {
      not_kept = server + " has no ICU default collations";
      return "";
    }
    std::string clauses = " LOCALE_PROVIDER icu ICU_LOCALE " + quote_literal(locale);
    if (rules.empty()) return clauses;
    if (version >= 160000) return clauses + " ICU_RULES " + quote_literal(rules);
    not_kept = server + " has no ICU rules; the database was created without its rules " + quote_literal(rules);
    return clauses;
  }
  if (provider == "builtin") {
    if (version >= 170000) return " LOCALE_PROVIDER builtin BUILTIN_LOCALE " + quote_literal(locale);
    not_kept = server + " has no builtin locale provider";
  }
  return "";
}

// "database <target>: <what>: <why>" to the log and the task's warnings.
void warn(TaskControl& control, const std::string& target, const std::string& what, const std::string& why) {
  core::log_event(core::LogLevel::warn, "postgres_restore_locale_changed",
                  {{"database", target}, {"change", what}, {"error", why}});
  control.warning("database " + target + ": " + what + ": " + why);
}

}  // namespace

core::Status create_database(PgConnection& admin, const boost::json::object& db, const std::string& target,
                             TaskControl& control) {
  auto run = [&](const std::string& sql) -> core::Status {
    auto done = admin.query(sql);
    return done.ok() ? core::Status{} : core::Status(done.error());
  };
  const std::string create = "CREATE DATABASE " + quote_ident(target);
  const std::string encoding = text_of(db, "encoding"), collate = text_of(db, "collate"), ctype = text_of(db, "ctype");
  if (encoding.empty()) return run(create);
  const std::string with = create + " TEMPLATE template0 ENCODING " + quote_literal(encoding);
  const std::string libc = " LC_COLLATE " + quote_literal(collate) + " LC_CTYPE " + quote_literal(ctype);
  std::string provider_lost;
  const std::string provider = provider_clauses(db, admin.server_version(), provider_lost);
  if (!provider.empty()) {
    auto made = run(with + libc + provider);
    if (made.ok()) {
      if (!provider_lost.empty())
        warn(control, target, "created with the " + text_of(db, "locale_provider") + " locale " + text_of(db, "locale"),
             provider_lost);
      return made;
    }
    provider_lost = made.error().message;  // e.g. a server built without ICU
  }
  const std::string provider_name = text_of(db, "locale_provider");
  auto made = run(with + libc);
  if (made.ok()) {
    if (!provider_lost.empty())
      warn(control, target, "created with the libc locale provider (LC_COLLATE " + collate + ") instead of the " +
                                provider_name + " locale " + text_of(db, "locale") + ", which the destination does not take",
           provider_lost);
    return made;
  }
  const std::string refused = made.error().message;
  std::string locale = "the destination's default locale";
  made = run(with);
  if (!made.ok()) {
    locale = "locale C";
    made = run(with + " LC_COLLATE 'C' LC_CTYPE 'C'");
  }
  if (!made.ok()) return made;
  warn(control, target, "created in encoding " + encoding + " with " + locale +
                            ", as the destination refused its locale (LC_COLLATE " + collate + ", LC_CTYPE " + ctype + ")",
       refused);
  return {};
}

}  // namespace opendbs::engines::postgres
