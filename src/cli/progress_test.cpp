#include "cli/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace opendbs::cli {
namespace {

TEST(ProgressMeter, EstimatesTheRemainingTimeFromThePercentRate) {
  ProgressMeter meter;
  meter.add({10, std::nullopt, "running"}, 0);
  meter.add({30, std::nullopt, "running"}, 2000);  // 10 %/s, 70 % to go
  ASSERT_TRUE(meter.eta_ms().has_value());
  EXPECT_EQ(*meter.eta_ms(), 7000);
  EXPECT_FALSE(meter.bytes_per_second().has_value());
}

TEST(ProgressMeter, UsesTheByteRateWhenBytesAreReported) {
  ProgressMeter meter;
  meter.add({25, 100ULL << 20, "running"}, 0);
  meter.add({50, 200ULL << 20, "running"}, 2000);  // 50 MiB/s, 200 MiB to go
  EXPECT_DOUBLE_EQ(*meter.bytes_per_second(), 50.0 * (1 << 20));
  EXPECT_EQ(*meter.eta_ms(), 4000);
}

TEST(ProgressMeter, HasNoEstimateBeforeProgressIsSeen) {
  ProgressMeter meter;
  meter.add({0, std::nullopt, "init"}, 0);
  EXPECT_FALSE(meter.eta_ms().has_value());
  meter.add({0, std::nullopt, "running"}, 1000);
  EXPECT_FALSE(meter.eta_ms().has_value());
}

TEST(ProgressLine, ShowsBarPercentBytesSpeedEtaAndElapsed) {
  ProgressMeter meter;
  meter.add({20, 40ULL << 20, "running"}, 0);
  ProgressSample now{40, 80ULL << 20, "running"};
  meter.add(now, 2000);
  EXPECT_EQ(progress_line("backup x", now, meter, 10),
            "backup x  [####------]  40%  80 MiB  20 MiB/s  ETA 6s  elapsed 2s");
  EXPECT_EQ(progress_line("backup x", now, meter, 0), "backup x  40%  80 MiB  20 MiB/s  ETA 6s  elapsed 2s");
  ProgressSample queued{0, std::nullopt, "init"};
  EXPECT_EQ(progress_line("backup x", queued, ProgressMeter{}, 0), "backup x (init)  0%  elapsed 0s");
}

TEST(ProgressDisplay, RedrawsInPlaceOnATerminal) {
  std::ostringstream out;
  ProgressDisplay display("restore r", out, true);
  display.update({10, std::nullopt, "running"}, 0);
  display.update({20, std::nullopt, "running"}, 500);
  display.finish("restore r finished");
  const std::string s = out.str();
  EXPECT_EQ(s.find('\n'), s.size() - 1) << "one line in all: " << s;
  EXPECT_TRUE(s.ends_with("\r\x1b[Krestore r finished\n")) << s;
  EXPECT_NE(s.find("\rrestore r  [##----------------------]  10%"), std::string::npos);
  EXPECT_NE(s.find("\rrestore r  [####--------------------]  20%"), std::string::npos);
}

TEST(ProgressDisplay, PrintsPlainLinesOnlyWhenSomethingChangedAndNotTooOften) {
  std::ostringstream out;
  ProgressDisplay display("backup b", out, false, 1000);
  display.update({10, std::nullopt, "running"}, 0);      // printed
  display.update({20, std::nullopt, "running"}, 500);    // changed, but too soon
  display.update({20, std::nullopt, "running"}, 1500);   // printed
  display.update({20, std::nullopt, "running"}, 3000);   // unchanged
  display.update({20, std::nullopt, "running"}, 11600);  // unchanged for 10 s: printed as a sign of life
  display.finish("backup b finished");
  std::istringstream lines(out.str());
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  ASSERT_EQ(got.size(), 4u) << out.str();
  EXPECT_EQ(got[0], "backup b  10%  elapsed 0s");
  EXPECT_EQ(got[1].rfind("backup b  20%", 0), 0u);
  EXPECT_EQ(got[2].rfind("backup b  20%", 0), 0u);
  EXPECT_EQ(got[3], "backup b finished");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

}  // namespace
}  // namespace opendbs::cli
