#include "iam/policy.h"

#include <gtest/gtest.h>

#include "core/clock.h"

using namespace opendbs::iam;

namespace {

const std::string kPlan = "acs:dbs:cn-hangzhou:1234567890123456:backupplan/dbs1a2b3c4d5e6";
const std::string kOtherPlan = "acs:dbs:cn-hangzhou:1234567890123456:backupplan/dbsother00000";
const int64_t kNoon = *opendbs::core::parse_iso8601("2024-06-01T12:00:00Z");

AccessRequest request(std::string action, std::string resource = kPlan, std::string ip = "192.168.1.10",
                      int64_t now = kNoon, bool secure = true) {
  return {std::move(action), std::move(resource), std::move(ip), now, secure};
}

Policy policy(std::string_view json) {
  auto p = parse_policy(json);
  EXPECT_TRUE(p.ok()) << p.error().message << "\n" << json;
  return p.ok() ? *p : Policy{};
}

std::string statement(std::string_view effect, std::string_view action, std::string_view resource,
                      std::string_view condition = "") {
  std::string s = R"({"Effect":")" + std::string(effect) + R"(","Action":)" + std::string(action) + R"(,"Resource":)" +
                  std::string(resource);
  if (!condition.empty()) s += R"(,"Condition":)" + std::string(condition);
  return s + "}";
}

std::string document(std::initializer_list<std::string> statements) {
  std::string s = R"({"Version":"1","Statement":[)";
  bool first = true;
  for (const auto& st : statements) s += (first ? "" : ",") + st, first = false;
  return s + "]}";
}

}  // namespace

TEST(WildcardMatch, Table) {
  struct Case {
    std::string_view pattern, text;
    bool case_insensitive, expected;
  };
  const Case cases[] = {
      {"*", "", false, true},
      {"*", "anything", false, true},
      {"", "", false, true},
      {"", "a", false, false},
      {"dbs:*", "dbs:StopBackupPlan", true, true},
      {"dbs:Describe*", "dbs:DescribeBackupPlanList", true, true},
      {"dbs:Describe*", "dbs:StopBackupPlan", true, false},
      {"dbs:describe*", "dbs:DescribeBackupPlanList", true, true},
      {"dbs:describe*", "dbs:DescribeBackupPlanList", false, false},
      {"dbs:?topBackupPlan", "dbs:StopBackupPlan", true, true},
      {"dbs:?topBackupPlan", "dbs:topBackupPlan", true, false},
      {"*Plan", "dbs:StopBackupPlan", true, true},
      {"*Plan*List", "dbs:DescribeBackupPlanList", true, true},
      {"a*b*c", "aXbYbZc", false, true},
      {"a*b*c", "aXbYbZ", false, false},
      {"acs:dbs:*:*:backupplan/*", "acs:dbs:cn-hangzhou:123:backupplan/dbs1", false, true},
      {"acs:dbs:*:*:backupplan/*", "*", false, false},
      {"**", "x", false, true},
      {"?", "", false, false},
      {"a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(wildcard_match(c.pattern, c.text, c.case_insensitive), c.expected) << c.pattern << " ~ " << c.text;
}

TEST(PolicyEvaluation, ActionAndResourceTable) {
  struct Case {
    std::string name;
    std::vector<std::string> documents;
    AccessRequest request;
    Decision expected;
  };
  const std::string allow_all = document({statement("Allow", R"("*")", R"("*")")});
  const std::string allow_describe = document({statement("Allow", R"("dbs:Describe*")", R"("*")")});
  const std::string allow_plan =
      document({statement("Allow", R"(["dbs:StopBackupPlan","dbs:StartBackupPlan"])", "\"" + kPlan + "\"")});
  const std::string deny_stop = document({statement("Deny", R"("dbs:stopbackupplan")", R"("*")")});
  const std::vector<Case> cases = {
      {"no policies deny implicitly", {}, request("dbs:StopBackupPlan"), Decision::implicit_deny},
      {"empty statement list grants nothing",
       {R"({"Version":"1","Statement":[]})"},
       request("dbs:StopBackupPlan"),
       Decision::implicit_deny},
      {"allow all", {allow_all}, request("dbs:StopBackupPlan"), Decision::allow},
      {"prefix wildcard allows", {allow_describe}, request("dbs:DescribeBackupPlanList"), Decision::allow},
      {"prefix wildcard does not allow others",
       {allow_describe},
       request("dbs:StopBackupPlan"),
       Decision::implicit_deny},
      {"action list and exact resource", {allow_plan}, request("dbs:StartBackupPlan"), Decision::allow},
      {"other resource not allowed", {allow_plan}, request("dbs:StartBackupPlan", kOtherPlan), Decision::implicit_deny},
      {"action outside list", {allow_plan}, request("dbs:ReleaseBackupPlan"), Decision::implicit_deny},
      {"explicit deny wins within one policy",
       {document({statement("Allow", R"("*")", R"("*")"), statement("Deny", R"("dbs:StopBackupPlan")", R"("*")")})},
       request("dbs:StopBackupPlan"),
       Decision::explicit_deny},
      {"explicit deny wins across policies, case-insensitive action",
       {allow_all, deny_stop},
       request("dbs:StopBackupPlan"),
       Decision::explicit_deny},
      {"deny of another action leaves allow", {allow_all, deny_stop}, request("dbs:StartBackupPlan"), Decision::allow},
      {"deny alone is still a deny", {deny_stop}, request("dbs:StopBackupPlan"), Decision::explicit_deny},
      {"resources are case-sensitive",
       {document({statement("Allow", R"("*")", R"("acs:dbs:*:*:BACKUPPLAN/*")")})},
       request("dbs:StopBackupPlan"),
       Decision::implicit_deny},
      {"resource wildcard over region and account",
       {document({statement("Allow", R"("dbs:*")", R"("acs:dbs:*:*:backupplan/dbs1a2b*")")})},
       request("dbs:StopBackupPlan"),
       Decision::allow},
  };
  for (const auto& c : cases) {
    std::vector<Policy> policies;
    for (const auto& d : c.documents) policies.push_back(policy(d));
    EXPECT_EQ(evaluate(policies, c.request), c.expected) << c.name;
  }
}

TEST(PolicyEvaluation, ConditionTable) {
  struct Case {
    std::string condition;
    AccessRequest request;
    bool allowed;
  };
  const int64_t before = *opendbs::core::parse_iso8601("2023-12-31T23:59:59Z");
  const std::vector<Case> cases = {
      {R"({"IpAddress":{"acs:SourceIp":"192.168.0.0/16"}})", request("dbs:X"), true},
      {R"({"IpAddress":{"acs:SourceIp":"192.168.0.0/16"}})", request("dbs:X", kPlan, "10.0.0.1"), false},
      {R"({"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.1.10"]}})", request("dbs:X"), true},
      {R"({"IpAddress":{"acs:SourceIp":"192.168.1.11"}})", request("dbs:X"), false},
      {R"({"IpAddress":{"acs:SourceIp":"192.168.0.0/16"}})", request("dbs:X", kPlan, "::ffff:192.168.3.4"), true},
      {R"({"IpAddress":{"acs:SourceIp":"2001:db8::/32"}})", request("dbs:X", kPlan, "2001:db8:1::5"), true},
      {R"({"IpAddress":{"acs:SourceIp":"2001:db8::/32"}})", request("dbs:X", kPlan, "2001:db9::5"), false},
      {R"({"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}})", request("dbs:X", kPlan, "not-an-ip"), false},
      {R"({"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","172.16.0.0/12"]}})", request("dbs:X"), true},
      {R"({"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.1.0/24"]}})", request("dbs:X"), false},
      {R"({"Bool":{"acs:SecureTransport":"true"}})", request("dbs:X"), true},
      {R"({"Bool":{"acs:SecureTransport":true}})", request("dbs:X", kPlan, "1.1.1.1", kNoon, false), false},
      {R"({"Bool":{"acs:SecureTransport":false}})", request("dbs:X", kPlan, "1.1.1.1", kNoon, false), true},
      {R"({"DateGreaterThan":{"acs:CurrentTime":"2024-01-01T00:00:00Z"}})", request("dbs:X"), true},
      {R"({"DateGreaterThan":{"acs:CurrentTime":"2024-01-01T00:00:00Z"}})", request("dbs:X", kPlan, "1.1.1.1", before),
       false},
      {R"({"DateLessThan":{"acs:CurrentTime":"2024-06-01T20:00:00+08:00"}})", request("dbs:X"), false},
      {R"({"DateLessThan":{"acs:CurrentTime":"2024-06-01T20:00:01+08:00"}})", request("dbs:X"), true},
      {R"({"DateLessThanEquals":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}})", request("dbs:X"), true},
      {R"({"DateGreaterThanEquals":{"acs:CurrentTime":"2024-06-01"}})", request("dbs:X"), true},
      {R"({"StringEquals":{"acs:SourceIp":"192.168.1.10"}})", request("dbs:X"), true},
      {R"({"StringNotEquals":{"acs:SourceIp":["192.168.1.10","1.1.1.1"]}})", request("dbs:X"), false},
      {R"({"StringLike":{"acs:SourceIp":"192.168.*"}})", request("dbs:X"), true},
      {R"({"StringNotLike":{"acs:SourceIp":"10.*"}})", request("dbs:X"), true},
      {R"({"StringEqualsIgnoreCase":{"acs:SecureTransport":"TRUE"}})", request("dbs:X"), true},
      {R"({"StringLike":{"acs:CurrentTime":"2024-06-*"}})", request("dbs:X"), true},
      {R"({"IpAddress":{"acs:SourceIp":"192.168.0.0/16"},"Bool":{"acs:SecureTransport":"true"}})",
       request("dbs:X", kPlan, "192.168.1.10", kNoon, false), false},  // every operator must hold
      {R"({"ipaddress":{"ACS:SOURCEIP":"192.168.0.0/16"}})", request("dbs:X"), true},
  };
  for (const auto& c : cases) {
    const std::vector<Policy> policies{policy(document({statement("Allow", R"("dbs:*")", R"("*")", c.condition)}))};
    EXPECT_EQ(evaluate(policies, c.request), c.allowed ? Decision::allow : Decision::implicit_deny)
        << c.condition << " ip=" << c.request.source_ip;
  }
}

TEST(PolicyEvaluation, ConditionalDenyAppliesOnlyWhenItsConditionHolds) {
  const std::vector<Policy> policies{
      policy(document({statement("Allow", R"("dbs:*")", R"("*")"),
                       statement("Deny", R"("dbs:*")", R"("*")", R"({"Bool":{"acs:SecureTransport":"false"}})")}))};
  EXPECT_EQ(evaluate(policies, request("dbs:StopBackupPlan")), Decision::allow);
  EXPECT_EQ(evaluate(policies, request("dbs:StopBackupPlan", kPlan, "1.1.1.1", kNoon, false)), Decision::explicit_deny);
}

TEST(PolicyParsing, AcceptsStringOrListAndSid) {
  auto p = parse_policy(R"({"Version":"1","Statement":[{"Sid":"a","Effect":"Allow","Action":"dbs:Describe*",
      "Resource":["acs:dbs:*:*:backupplan/a","acs:dbs:*:*:backupplan/b"]}]})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->statements.size(), 1u);
  EXPECT_EQ(p->statements[0].effect, Effect::allow);
  EXPECT_EQ(p->statements[0].actions, std::vector<std::string>{"dbs:Describe*"});
  EXPECT_EQ(p->statements[0].resources.size(), 2u);
}

TEST(PolicyParsing, RejectsMalformedDocumentsSayingWhere) {
  struct Case {
    std::string json, expected_in_message;
  };
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"Statement":[]})", "Version"},
      {R"({"Version":"2","Statement":[]})", "Version"},
      {R"({"Version":1,"Statement":[]})", "Version"},
      {R"({"Version":"1"})", "Statement"},
      {R"({"Version":"1","Statement":{}})", "Statement"},
      {R"({"Version":"1","Statement":[],"Extra":1})", "\"Extra\" is not supported"},
      {document({R"({"Action":"*","Resource":"*"})"}), "Statement[0].Effect: is missing"},
      {document({statement("Maybe", R"("*")", R"("*")")}), "Statement[0].Effect"},
      {document({R"({"Effect":"Allow","Resource":"*"})"}), "Statement[0].Action: is missing"},
      {document({R"({"Effect":"Allow","Action":"*"})"}), "Statement[0].Resource: is missing"},
      {document({statement("Allow", R"([])", R"("*")")}), "Statement[0].Action"},
      {document({statement("Allow", R"([""])", R"("*")")}), "Statement[0].Action"},
      {document({statement("Allow", R"(5)", R"("*")")}), "Statement[0].Action"},
      {document({R"({"Effect":"Allow","NotAction":"dbs:X","Resource":"*"})"}), "\"NotAction\" is not supported"},
      {document({statement("Allow", R"("*")", R"("*")"), statement("Allow", R"("*")", R"("*")", "[]")}),
       "Statement[1].Condition"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"NumericEquals":{"acs:SourceIp":"1"}})")}),
       "unknown condition operator"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"StringEquals":{"acs:UserAgent":"x"}})")}),
       "unsupported condition key"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"IpAddress":{"acs:SourceIp":"300.1.1.1"}})")}),
       "not an IP address"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/33"}})")}),
       "not an IP address"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"IpAddress":{"acs:CurrentTime":"10.0.0.0/8"}})")}),
       "acs:SourceIp only"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"DateLessThan":{"acs:CurrentTime":"tomorrow"}})")}),
       "not an ISO-8601 time"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"Bool":{"acs:SecureTransport":"yes"}})")}),
       "not true or false"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"StringEquals":{"acs:SourceIp":[]}})")}),
       "at least one value"},
      {document({statement("Allow", R"("*")", R"("*")", R"({"StringEquals":{"acs:SourceIp":{"a":1}}})")}),
       "expected a string"},
  };
  for (const auto& c : cases) {
    auto p = parse_policy(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.error().code, "InvalidParameterValid");
    EXPECT_NE(p.error().message.find(c.expected_in_message), std::string::npos)
        << c.json << "\n  message: " << p.error().message;
  }
}

TEST(IpNetwork, ParsesAddressesAndCidrBlocks) {
  IpNetwork n;
  EXPECT_TRUE(parse_ip_network("10.0.0.0/8", n));
  EXPECT_EQ(n.prefix_bits, 104);
  EXPECT_TRUE(parse_ip_network("1.2.3.4", n));
  EXPECT_EQ(n.prefix_bits, 128);
  EXPECT_TRUE(parse_ip_network("::1", n));
  EXPECT_TRUE(parse_ip_network("2001:db8::/0", n));
  EXPECT_EQ(n.prefix_bits, 0);
  for (std::string_view bad : {"", "1.2.3", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/x", "::1/129", "10.0.0.0/8/8"})
    EXPECT_FALSE(parse_ip_network(bad, n)) << bad;
}
