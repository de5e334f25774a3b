#include "engines/postgres/dump_settings.h"

#include <gtest/gtest.h>

namespace opendbs::engines::postgres {
namespace {

// The head of a pg_dump 17 schema script, then a function whose body has a line that reads like a SET.
const std::string kScript =
    "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n"
    "SET statement_timeout = 0;\n"
    "SET transaction_timeout = 0;\n"
    "SET client_encoding = 'UTF8';\n"
    "SELECT pg_catalog.set_config('search_path', '', false);\n"
    "SET client_min_messages = warning;\n"
    "\n"
    "CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$\n"
    "SET transaction_timeout = 0;\n"
    "$$;\n";

const std::set<std::string> kPg16{"statement_timeout", "client_encoding", "client_min_messages", "search_path"};

TEST(DumpSettings, RestoreDropsTheHeadsSetsOfParametersTheDestinationLacksAndNothingElse) {
  const auto fit = without_unknown_settings(kScript, kPg16);
  EXPECT_EQ(fit.dropped, std::vector<std::string>{"transaction_timeout"});
  const std::string line = "SET transaction_timeout = 0;\n";
  std::string expected = kScript;
  expected.erase(expected.find(line), line.size());
  EXPECT_EQ(fit.script, expected);
  EXPECT_NE(fit.script.find("$$\nSET transaction_timeout = 0;\n$$"), std::string::npos);  // the user's code
}

TEST(DumpSettings, RestoreKeepsEverySettingTheDestinationHas) {
  auto known = kPg16;
  known.insert("transaction_timeout");
  const auto fit = without_unknown_settings(kScript, known);
  EXPECT_TRUE(fit.dropped.empty());
  EXPECT_EQ(fit.script, kScript);
}

TEST(DumpSettings, BackupGuardsTheHeadsSetsOfParametersTheSourceLacks) {
  const auto guarded = unknown_settings_guarded(kScript, kPg16);
  EXPECT_NE(guarded.find("\nSELECT pg_catalog.set_config('transaction_timeout', '0', false) FROM pg_catalog.pg_settings"
                         " WHERE name = 'transaction_timeout';\nSET client_encoding = 'UTF8';\n"),
            std::string::npos)
      << guarded;
  EXPECT_NE(guarded.find("SET statement_timeout = 0;\n"), std::string::npos);
  EXPECT_NE(guarded.find("$$\nSET transaction_timeout = 0;\n$$"), std::string::npos);
}

TEST(DumpSettings, QuotedValuesStayLiteralsAndAScriptWithoutAFinalNewlineKeepsItsEnd) {
  EXPECT_EQ(unknown_settings_guarded("SET some_new = 'it''s';", {}),
            "SELECT pg_catalog.set_config('some_new', 'it''s', false) FROM pg_catalog.pg_settings WHERE name = 'some_new';");
  EXPECT_EQ(without_unknown_settings("SET a = 1;\nSET b = 2;", {"a"}).script, "SET a = 1;\n");
  EXPECT_EQ(without_unknown_settings("SET a = 1;\nSET b = 2;", {"b"}).script, "SET b = 2;");
}

TEST(DumpSettings, LinesThatAreNotOneSimpleSettingAreLeftAlone) {
  const std::string odd = "SET search_path = a, b;\nSET \"Odd\" = 1;\nSET x = f(1);\n";
  EXPECT_EQ(without_unknown_settings(odd, {}).script, odd);
}

}  // namespace
}  // namespace opendbs::engines::postgres
